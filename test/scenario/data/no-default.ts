// k6 habit: `export const options` instead of a default export.
export const options = { scenarios: { main: { executor: 'shared-iterations' } } };
