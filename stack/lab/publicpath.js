/*
 * First module of the entry: point webpack's chunk loading at the URL the
 * server reports, which differs between a standalone server (/static/...)
 * and a JupyterHub single-user server (/user/NAME/static/...).
 */
const el = document.getElementById('jupyter-config-data');
const config = el ? JSON.parse(el.textContent || '{}') : {};
__webpack_public_path__ = (config.fullStaticUrl || '') + '/';
