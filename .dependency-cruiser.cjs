/**
 * The boundaries of the code, checked by `npm run lint`: the core (lib/) never reaches for its wiring or
 * its adapters, only the wiring (app/) uses the permission checker, and nothing imports in a circle.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-stays-apart',
      comment:
        'lib/ is the core: it knows its ports, not the wiring (app/), HTTP (routes/) or MongoDB (mongo/, models/).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(app|routes|mongo|models|permissions)/' },
    },
    {
      name: 'permissions-only-from-the-wiring',
      comment: 'The permission checker is wired in app/; the routes take it as a port.',
      severity: 'error',
      from: { path: '^(lib|routes|mongo|models)/' },
      to: { path: '^permissions/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
