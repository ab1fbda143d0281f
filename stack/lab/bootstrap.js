/*
 * Entry point of the lab app, a Module Federation host (the pattern of
 * jupyterlab's dev_mode/bootstrap.js).
 *
 * Nothing here may import a shared package statically: the federated
 * (prebuilt) extensions listed in the page config must first register in the
 * share scope, so that version negotiation sees them before any shared module
 * is instantiated. Only then is ./index.js (which imports JupyterLab) loaded.
 */

function pageConfig() {
  const el = document.getElementById('jupyter-config-data');
  return el ? JSON.parse(el.textContent || '{}') : {};
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.onerror = () => reject(new Error(`Failed to load ${url}`));
    script.onload = resolve;
    script.async = true;
    script.src = url;
    document.head.appendChild(script);
  });
}

async function loadRemote(baseUrl, data) {
  await loadScript(`${baseUrl}/${data.name}/${data.load}`);
  await __webpack_init_sharing__('default');
  const container = window._JUPYTERLAB[data.name];
  if (!container) {
    throw new Error(`Extension ${data.name} did not register a container`);
  }
  await container.init(__webpack_share_scopes__.default);
}

void (async function bootstrap() {
  const config = pageConfig();
  const federated = config.federated_extensions || [];
  const baseUrl = config.fullLabextensionsUrl || '';

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  const results = await Promise.allSettled(
    federated.map(data => loadRemote(baseUrl, data))
  );
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      console.error(
        `Cannot load the prebuilt extension ${federated[i].name}:`,
        result.reason
      );
    }
  });

  const { main } = await import('./index.js');
  // The remote entries may finish after the window's load event.
  if (document.readyState === 'complete') {
    void main();
  } else {
    window.addEventListener('load', () => void main());
  }
})();
