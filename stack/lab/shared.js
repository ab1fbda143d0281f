/*
 * The packages the lab app shares with federated (prebuilt) extensions.
 *
 * Used by webpack.config.js (what the Module Federation host provides) and by
 * build-extension.js (the core package.json that @jupyterlab/builder reads to
 * decide what an extension must NOT bundle). Both read the versions that are
 * actually installed, so the host and the extension always agree.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const appDir = __dirname;
const appPackage = require('./package.json');

/** Package families whose modules must exist once per page. */
const SHARED_PATTERNS = [
  /^@jupyterlab\//,
  /^@lumino\//,
  /^@jupyter\/(ydoc|react-components|web-components)$/,
  /^@codemirror\//,
  /^@lezer\//,
  /^@microsoft\/fast-(element|foundation)$/,
  /^@rjsf\//,
  /^react$/,
  /^react-dom$/,
  /^yjs$/
];

/** Test and build tooling that is a dependency of the app but never shared. */
const NOT_SHARED = new Set(['@jupyterlab/builder', '@jupyterlab/galata']);

/**
 * Singletons, as in jupyterlab's dev_mode/package.json: a second copy of any
 * of these breaks token identity (DI) or global state.
 */
const SINGLETONS = [
  '@codemirror/language',
  '@codemirror/state',
  '@codemirror/view',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/application',
  '@jupyterlab/apputils',
  '@jupyterlab/cell-toolbar',
  '@jupyterlab/codeeditor',
  '@jupyterlab/codemirror',
  '@jupyterlab/completer',
  '@jupyterlab/console',
  '@jupyterlab/coreutils',
  '@jupyterlab/debugger',
  '@jupyterlab/docmanager',
  '@jupyterlab/documentsearch',
  '@jupyterlab/filebrowser',
  '@jupyterlab/fileeditor',
  '@jupyterlab/imageviewer',
  '@jupyterlab/inspector',
  '@jupyterlab/launcher',
  '@jupyterlab/logconsole',
  '@jupyterlab/lsp',
  '@jupyterlab/mainmenu',
  '@jupyterlab/markdownviewer',
  '@jupyterlab/mermaid',
  '@jupyterlab/metadataform',
  '@jupyterlab/notebook',
  '@jupyterlab/outputarea',
  '@jupyterlab/pluginmanager',
  '@jupyterlab/property-inspector',
  '@jupyterlab/rendermime',
  '@jupyterlab/rendermime-interfaces',
  '@jupyterlab/running',
  '@jupyterlab/services',
  '@jupyterlab/settingeditor',
  '@jupyterlab/settingregistry',
  '@jupyterlab/statedb',
  '@jupyterlab/statusbar',
  '@jupyterlab/toc',
  '@jupyterlab/tooltip',
  '@jupyterlab/translation',
  '@jupyterlab/ui-components',
  '@jupyterlab/workspaces',
  '@lezer/common',
  '@lezer/highlight',
  '@lumino/algorithm',
  '@lumino/application',
  '@lumino/commands',
  '@lumino/coreutils',
  '@lumino/datagrid',
  '@lumino/disposable',
  '@lumino/domutils',
  '@lumino/dragdrop',
  '@lumino/keyboard',
  '@lumino/messaging',
  '@lumino/polling',
  '@lumino/properties',
  '@lumino/signaling',
  '@lumino/virtualdom',
  '@lumino/widgets',
  '@microsoft/fast-element',
  '@microsoft/fast-foundation',
  'react',
  'react-dom',
  'yjs'
];

function isShared(name) {
  return !NOT_SHARED.has(name) && SHARED_PATTERNS.some(re => re.test(name));
}

/** Directory of an installed package, resolved from `fromDir` like node does. */
function packageDir(name, fromDir) {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json');
    if (fs.existsSync(candidate)) {
      return path.dirname(candidate);
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`Cannot find package ${name} from ${fromDir}`);
    }
    dir = parent;
  }
}

function readPackage(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/**
 * Walk the dependency graph of the app's dependencies and collect the
 * installed version of every shareable package in it.
 *
 * @returns {Map<string, string>} package name -> installed version
 */
function installedSharedVersions() {
  const versions = new Map();
  const seen = new Set();
  const queue = Object.keys(appPackage.dependencies).map(name => [
    name,
    appDir
  ]);
  while (queue.length > 0) {
    const [name, fromDir] = queue.shift();
    let dir;
    try {
      dir = packageDir(name, fromDir);
    } catch {
      // optional or peer dependency that is not installed
      continue;
    }
    if (seen.has(dir)) {
      continue;
    }
    seen.add(dir);
    const data = readPackage(dir);
    if (isShared(name)) {
      const known = versions.get(name);
      if (known !== undefined && known !== data.version) {
        throw new Error(
          `Two versions of shared package ${name} are installed (${known}, ${data.version}); dedupe them (npm overrides).`
        );
      }
      versions.set(name, data.version);
    }
    for (const dep of Object.keys(data.dependencies ?? {})) {
      queue.push([dep, dir]);
    }
  }
  return new Map([...versions].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The app's JupyterLab extension packages, split like dev_mode's
 * `jupyterlab.extensions` / `jupyterlab.mimeExtensions`.
 */
function labExtensionPackages() {
  const extensions = [];
  const mimeExtensions = [];
  for (const name of Object.keys(appPackage.dependencies).sort()) {
    const data = readPackage(packageDir(name, appDir));
    const lab = data.jupyterlab;
    if (!lab) {
      continue;
    }
    if (lab.extension) {
      extensions.push(name);
    }
    if (lab.mimeExtension) {
      mimeExtensions.push(name);
    }
  }
  return { extensions, mimeExtensions };
}

module.exports = {
  SINGLETONS,
  installedSharedVersions,
  labExtensionPackages,
  packageDir,
  readPackage
};
