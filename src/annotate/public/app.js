// app.js: the annotation page. Log in with a token, ask the server for a lease (one pair or A/B item),
// show both images, send the choice with the lease id (resent as-is after a network error: the server
// stores it once), then the next lease. Keys: 1 left, 2 right, 3 tie, space skip.
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'treereward-annotate-token';
const CHOICE_KEYS = { '1': 'left', '2': 'right', '3': 'tie', ' ': 'skip' };

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  request: { kind: 'pair' },
  lease: null,
  shownAt: 0,
  busy: false,
  objectUrls: [],
  sessionCount: 0,
  renewTimer: 0,
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    logout('Your token was not accepted. Sign in again.');
    throw new HttpError(401, 'unauthorised');
  }
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new HttpError(res.status, data.error || `${res.status} ${res.statusText}`);
  }
  return res.status === 204 ? null : res;
}

const show = (id) => { for (const s of ['login', 'work', 'done']) $(s).hidden = s !== id; };

function setStatus(text, warn = false) {
  $('status').textContent = text;
  $('status').classList.toggle('warn', warn);
}

// ---- login ----

async function login(token) {
  state.token = token;
  const me = await (await api('GET', '/api/me')).json();
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me;
  $('user-name').textContent = me.admin ? `${me.name} (admin)` : me.name;
  $('user').hidden = false;
  $('picker').hidden = false;
  fillPicker(me);
  clearInterval(state.renewTimer);
  state.renewTimer = setInterval(renew, Math.min(60_000, Math.max(1000, me.leaseMs / 2)));
  await nextLease();
}

function logout(message = '') {
  if (state.lease && state.token) fetch(`/api/leases/${state.lease.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${state.token}` } }).catch(() => {});
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, lease: null });
  clearInterval(state.renewTimer);
  $('user').hidden = true;
  $('picker').hidden = true;
  $('progress').textContent = '';
  $('login-error').textContent = message;
  $('token').value = '';
  show('login');
  $('token').focus();
}

function fillPicker(me) {
  const task = $('task-select');
  task.replaceChildren(new Option('Preference pairs', 'pair'));
  for (const set of me.abSets) task.add(new Option(`A/B: ${set.name} (${set.items})`, `ab:${set.name}`));
  const dim = $('dimension-select');
  const total = me.queued.reduce((a, d) => a + d.pairs, 0);
  dim.replaceChildren(new Option(`All dimensions (${total} queued)`, ''));
  for (const d of me.queued) dim.add(new Option(`${d.dimension} (${d.pairs})`, d.dimension));
  task.value = state.request.kind === 'ab' ? `ab:${state.request.set}` : 'pair';
  dim.value = state.request.dimension ?? '';
  $('dimension-field').hidden = state.request.kind !== 'pair';
}

function pickTask() {
  const task = $('task-select').value;
  const dimension = $('dimension-select').value;
  state.request = task.startsWith('ab:') ? { kind: 'ab', set: task.slice(3) } : { kind: 'pair', ...(dimension ? { dimension } : {}) };
  $('dimension-field').hidden = state.request.kind !== 'pair';
  nextLease().catch(report);
}

// ---- leases ----

function renderProgress(p) {
  $('progress').innerHTML = '';
  const part = (n, label) => {
    const b = document.createElement('b');
    b.textContent = String(n);
    $('progress').append(b, ` ${label}`);
  };
  part(p.labelled, 'labelled · ');
  part(p.skipped, 'skipped · ');
  part(p.remaining, 'left for you');
  $('progress').dataset.labelled = String(p.labelled);
}

async function fetchImage(path) {
  const res = await api('GET', path);
  const url = URL.createObjectURL(await res.blob());
  state.objectUrls.push(url);
  return url;
}

function loadInto(img, url) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('the image could not be decoded'));
    img.src = url;
  });
}

/** Largest size that fits the frame: whole multiples of small images (crisp pixels), shrunk large ones. */
function fitImage(img) {
  const frame = img.parentElement;
  const nw = img.naturalWidth || 1;
  const nh = img.naturalHeight || 1;
  const room = Math.min(frame.clientWidth, frame.clientHeight);
  let scale = room / Math.max(nw, nh);
  if (scale >= 1) scale = Math.floor(scale);
  img.style.width = `${Math.round(nw * scale)}px`;
  img.style.height = `${Math.round(nh * scale)}px`;
  img.classList.toggle('pixelated', scale >= 2);
}

async function nextLease() {
  state.busy = true;
  setButtons(false);
  try {
    const data = await (await api('POST', '/api/leases', state.request)).json();
    renderProgress(data.progress);
    if (!data.lease) {
      state.lease = null;
      $('done-text').textContent = state.request.kind === 'ab'
        ? `You have labelled every item of ${state.request.set} that still needs labels. Thank you!`
        : 'Every queued pair here has its labels, or you have labelled it. Thank you!';
      show('done');
      return;
    }
    await showLease(data.lease);
  } finally {
    state.busy = false;
  }
}

async function showLease(lease) {
  state.lease = lease;
  show('work');
  document.querySelector('.work').dataset.lease = lease.id;
  for (const side of ['left', 'right']) $(`side-${side}`).classList.remove('chosen');
  $('task-dimension').textContent = lease.dimension ?? 'overall';
  $('task-guide').textContent = lease.guide;
  const same = lease.left.prompt === lease.right.prompt;
  $('prompt-shared').hidden = !same;
  $('prompt-shared').textContent = lease.left.prompt;
  $('prompt-left').hidden = same;
  $('prompt-right').hidden = same;
  $('prompt-left').textContent = lease.left.prompt;
  $('prompt-right').textContent = lease.right.prompt;
  for (const f of document.querySelectorAll('.frame')) f.classList.add('loading');
  setStatus('Loading images…');
  // both images appear together, so neither side is seen first
  const [l, r] = await Promise.all([fetchImage(lease.left.image), fetchImage(lease.right.image)]);
  await Promise.all([loadInto($('img-left'), l), loadInto($('img-right'), r)]);
  for (const old of state.objectUrls.splice(0, state.objectUrls.length - 2)) URL.revokeObjectURL(old);
  fitImage($('img-left'));
  fitImage($('img-right'));
  for (const f of document.querySelectorAll('.frame')) f.classList.remove('loading');
  state.shownAt = performance.now();
  setStatus(state.sessionCount ? `${state.sessionCount} labelled this session.` : 'Choose with the buttons or keys 1, 2, 3 and space.');
  setButtons(true);
}

function setButtons(enabled) {
  for (const b of document.querySelectorAll('.choice')) b.disabled = !enabled;
}

// ---- labels ----

async function choose(choice) {
  if (state.busy || !state.lease) return;
  state.busy = true;
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur(); // Enter must not press a focused button again
  setButtons(false);
  const lease = state.lease;
  const body = { lease: lease.id, choice, timeSpentMs: Math.round(performance.now() - state.shownAt) };
  document.querySelector(`.choice[data-choice="${choice}"]`).classList.add('flash');
  if (choice === 'left' || choice === 'right') $(`side-${choice}`).classList.add('chosen');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await api('POST', '/api/labels', body);
        break;
      } catch (err) {
        if (err instanceof HttpError) throw err; // the server answered: resending will not help
        if (attempt >= 6) throw new Error('The server cannot be reached; your last choice was not saved. Try again when it is back.');
        setStatus('Saving… (the connection dropped, retrying)', true);
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
    if (choice !== 'skip') state.sessionCount++;
    await new Promise((r) => setTimeout(r, 120)); // a glimpse of what was chosen
  } catch (err) {
    if (err instanceof HttpError && err.status === 409) {
      setStatus(`${err.message}. Loading the next one.`, true);
    } else {
      state.busy = false;
      document.querySelector(`.choice[data-choice="${choice}"]`).classList.remove('flash');
      setButtons(true);
      report(err);
      return;
    }
  } finally {
    document.querySelector(`.choice[data-choice="${choice}"]`).classList.remove('flash');
  }
  state.busy = false;
  await nextLease().catch(report);
}

function report(err) {
  if (err instanceof HttpError && err.status === 401) return;
  setStatus(err.message || String(err), true);
}

// Keep the lease alive while the page is open and visible (asking again renews it).
function renew() {
  if (!state.lease || state.busy || document.hidden) return;
  api('POST', '/api/leases', state.request).then((r) => r.json()).then((data) => {
    if (data.lease && state.lease && data.lease.id !== state.lease.id && !state.busy) {
      setStatus('Your previous item expired; here is the next one.', true);
      showLease(data.lease).catch(report);
    }
  }).catch(() => {});
}

// ---- wiring ----

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  $('login-error').textContent = '';
  login(token).catch((err) => {
    if (!(err instanceof HttpError && err.status === 401)) $('login-error').textContent = err.message;
  });
});
$('logout').addEventListener('click', () => logout());
$('task-select').addEventListener('change', pickTask);
$('dimension-select').addEventListener('change', pickTask);
$('done-refresh').addEventListener('click', () => nextLease().catch(report));
for (const b of document.querySelectorAll('.choice')) b.addEventListener('click', () => choose(b.dataset.choice));
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  const choice = CHOICE_KEYS[e.key];
  if (!choice || $('work').hidden) return;
  e.preventDefault(); // space would scroll, or press a focused button a second time
  choose(choice);
});
window.addEventListener('resize', () => {
  if (state.lease) {
    fitImage($('img-left'));
    fitImage($('img-right'));
  }
});

if (state.token) {
  login(state.token).catch((err) => {
    if (!(err instanceof HttpError && err.status === 401)) logout(err.message);
  });
} else {
  show('login');
}
