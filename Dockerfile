# runner's image, for deploy/kubernetes/ (the agents' Indexed Job and the coordinator's Job): the
# `runner` command on the PATH, as the manifests' `command: ["runner"]` runs it.
#
#   docker build -t registry.example.com/runner:0.1.0 .
#   docker push registry.example.com/runner:0.1.0      # then put that name in the manifests' image:
#
# Two stages: the first installs every dependency and builds dist/ (esbuild, and tsc for the
# declaration files); the second installs only the runtime dependencies (npm ci --omit=dev) and
# takes the built dist/ from the first. test/deploy/dockerfile.test.ts checks that what it COPYs
# exists, that it ships what package.json's "files" ship, and that its ENTRYPOINT is the manifests'
# command.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json build.mjs tsconfig.json tsconfig.types.json ./
COPY bin ./bin
COPY runner ./runner
COPY schemas ./schemas
COPY fixtures ./fixtures
# npm ci runs the prepare script: node build.mjs
RUN npm ci

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: prepare (the build) needs the dev dependencies; dist/ comes from the build stage
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY runner ./runner
COPY schemas ./schemas
COPY scenarios ./scenarios
COPY fixtures ./fixtures
# runner on the PATH; the V8 code cache (bin/runner.js) writable by the user that runs it
RUN ln -s /app/bin/runner.js /usr/local/bin/runner \
  && mkdir -p dist/v8-cache && chown node:node dist/v8-cache
USER node
ENTRYPOINT ["runner"]
CMD ["--help"]
