/**
 * Jest transformer for ESM-only dependencies (cookie@2, required by light-my-request,
 * which `app.inject()` uses): Jest on Node < 24.9 cannot `require()` ES modules.
 */
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const { outputText, sourceMapText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: true
      }
    });
    return { code: outputText, map: sourceMapText };
  }
};
