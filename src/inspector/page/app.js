// statearb inspector page: plain browser JavaScript, no build step, no network beyond this server.
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const SVG = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs = {}) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  const fmt = (n, d = 2) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '–');

  let ws;
  let selected;
  let graphFor;
  let controls = false;
  let series = [];
  let lastValue;
  const elk = new ELK();

  // ---------------------------------------------------------------- strategy list
  function renderList(list) {
    const body = $('#strategies tbody');
    body.replaceChildren(
      ...list.map((s) => {
        const tr = el('tr', { 'data-id': s.id, class: s.id === selected ? 'sel' : '' });
        tr.append(
          el('td', {}, s.id),
          el(
            'td',
            s.attention ? { class: 'attention', title: s.attention.reason } : {},
            s.attention ? `${s.state} ⚠` : s.halted ? `${s.state} (halted)` : s.state,
          ),
          el('td', { class: 'num' }, fmt(s.netPnl)),
        );
        tr.title = `${s.kind} · ${s.instruments.join(', ')} · ${s.openOrders} open orders`;
        tr.onclick = () => select(s.id);
        return tr;
      }),
    );
    if (!selected && list.length > 0) select(decodeURIComponent(location.hash.slice(1)) || list[0].id);
  }

  // ---------------------------------------------------------------- statechart
  const textW = (t, px = 7) => Math.ceil(t.length * px) + 8;
  const eventLabel = (e) => {
    if (e.event === '') return e.guard ? `[${e.guard}]` : 'always';
    let ev = e.event;
    const done = /^xstate\.done\.actor\.(.+)$/.exec(ev);
    const err = /^xstate\.error\.actor\.(.+)$/.exec(ev);
    if (done) ev = `done: ${done[1]}`;
    if (err) ev = `error: ${err[1]}`;
    return e.guard ? `${ev} [${e.guard}]` : ev;
  };

  function toElk(node) {
    const leaf = node.children.length === 0;
    const n = {
      id: node.id,
      labels: [{ text: node.key, width: textW(node.key), height: 16 }],
      layoutOptions: leaf
        ? {}
        : {
            'elk.padding': '[top=30,left=12,bottom=12,right=12]',
            'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT',
          },
    };
    if (leaf) {
      n.width = Math.max(70, textW(node.key) + 16);
      n.height = 34;
    } else n.children = node.children.map(toElk);
    return n;
  }

  async function drawGraph(graph) {
    const ancestors = new Map();
    const types = new Map();
    const walk = (n, chain) => {
      ancestors.set(n.id, chain);
      types.set(n.id, { type: n.type, leaf: n.children.length === 0, key: n.key });
      for (const c of n.children) walk(c, [...chain, n.id]);
    };
    walk(graph.root, []);
    // Transitions between a state and its own ancestor (e.g. handled at the machine root) do
    // not lay out well as edges: they are listed under the diagram instead.
    const nested = (a, b) => ancestors.get(b)?.includes(a) || ancestors.get(a)?.includes(b);
    const laid = graph.edges.filter((e) => !nested(e.source, e.target) && e.source !== graph.root.id);
    const global = graph.edges.filter((e) => !laid.includes(e));
    $('#global-edges').textContent = global.length
      ? `also: ${global.map((e) => `${e.source.split('.').pop()} —${eventLabel(e)}→ ${e.target.split('.').pop()}`).join(' · ')}`
      : '';
    const g = {
      id: '__root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'DOWN',
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.layered.spacing.nodeNodeBetweenLayers': '36',
        'elk.spacing.nodeNode': '22',
        'elk.spacing.edgeLabel': '2',
        'elk.edgeRouting': 'POLYLINE',
      },
      children: [toElk(graph.root)],
      edges: laid.map((e) => {
        const text = eventLabel(e);
        return {
          id: e.id,
          sources: [e.source],
          targets: [e.target],
          labels: [{ text, width: textW(text, 5.6), height: 12 }],
        };
      }),
    };
    const out = await elk.layout(g);
    const abs = new Map();
    // Scaled to the panel's width, never above natural size: small machines stay crisp.
    const svg = svgEl('svg', {
      viewBox: `0 0 ${out.width + 20} ${out.height + 20}`,
      width: out.width + 20,
      'data-machine': graph.id,
      style: 'max-width:100%;height:auto',
    });
    const defs = svgEl('defs');
    const marker = svgEl('marker', {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#7c879c' }));
    defs.append(marker);
    svg.append(defs);
    const nodesLayer = svgEl('g', { transform: 'translate(10,10)' });
    const edgesLayer = svgEl('g', { transform: 'translate(10,10)' });
    const place = (n, ox, oy) => {
      const x = ox + (n.x ?? 0);
      const y = oy + (n.y ?? 0);
      abs.set(n.id, { x, y });
      if (n.id !== '__root') {
        const t = types.get(n.id);
        const grp = svgEl('g', { 'data-state-id': n.id, class: `state ${t.type}${t.leaf ? ' leaf' : ''}` });
        grp.append(svgEl('rect', { x, y, width: n.width, height: n.height, rx: 6 }));
        const label = svgEl(
          'text',
          t.leaf
            ? { x: x + n.width / 2, y: y + n.height / 2 + 4, 'text-anchor': 'middle' }
            : { x: x + 8, y: y + 18 },
        );
        label.textContent = t.key;
        grp.append(label);
        nodesLayer.append(grp);
      }
      for (const c of n.children ?? []) place(c, x, y);
    };
    place(out, 0, 0);
    const drawEdges = (container) => {
      for (const e of container.edges ?? []) {
        const off = abs.get(e.container ?? container.id) ?? { x: 0, y: 0 };
        for (const s of e.sections ?? []) {
          const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
          const d = pts
            .map((p, i) => `${i ? 'L' : 'M'}${(p.x + off.x).toFixed(1)},${(p.y + off.y).toFixed(1)}`)
            .join('');
          edgesLayer.append(
            svgEl('path', { d, class: 'edge', 'marker-end': 'url(#arrow)', 'data-edge-id': e.id }),
          );
        }
        for (const l of e.labels ?? []) {
          const t = svgEl('text', { x: (l.x ?? 0) + off.x, y: (l.y ?? 0) + off.y + 10, class: 'edge-label' });
          t.textContent = l.text;
          edgesLayer.append(t);
        }
      }
      for (const c of container.children ?? []) drawEdges(c);
    };
    drawEdges(out);
    svg.append(nodesLayer, edgesLayer);
    $('#diagram').replaceChildren(svg);
    if (lastValue !== undefined) highlight(graph.root.id, lastValue);
  }

  function activeIds(rootId, value) {
    const out = [rootId];
    const walk = (prefix, v) => {
      if (typeof v === 'string') out.push(`${prefix}.${v}`);
      else if (v && typeof v === 'object')
        for (const [k, sub] of Object.entries(v)) {
          out.push(`${prefix}.${k}`);
          walk(`${prefix}.${k}`, sub);
        }
    };
    walk(rootId, value);
    return new Set(out);
  }

  function highlight(rootId, value) {
    const active = activeIds(rootId, value);
    for (const g of document.querySelectorAll('#diagram g.state'))
      g.classList.toggle('active', active.has(g.getAttribute('data-state-id')));
  }

  // ---------------------------------------------------------------- panels
  function tree(value, key) {
    if (value === null || typeof value !== 'object') {
      const d = el('div', { class: 'leaf' });
      d.textContent = `${key !== undefined ? `${key}: ` : ''}${JSON.stringify(value)}`;
      return d;
    }
    const det = el('details');
    const entries = Object.entries(value);
    det.append(
      el(
        'summary',
        {},
        `${key ?? 'context'} ${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`,
      ),
    );
    det.addEventListener('toggle', () => {
      if (det.open && det.children.length === 1) for (const [k, v] of entries) det.append(tree(v, k));
    });
    return det;
  }

  function renderState(s) {
    lastValue = s.value;
    const top = typeof s.value === 'string' ? s.value : Object.keys(s.value)[0];
    $('#sel-state').textContent = top;
    $('#sel-state').setAttribute('data-state', top);
    $('#sel-halted').hidden = !s.halted;
    $('#sel-halted').textContent = s.halted ? `halted: ${s.halted}` : '';
    $('#sel-attention').hidden = !s.attention;
    $('#sel-attention').textContent = s.attention
      ? `NEEDS ATTENTION: ${s.attention.reason} — ${s.attention.legs.map((l) => `${l.symbol}@${l.venue} ${l.position}`).join(', ')}`
      : '';
    if (graphFor) highlight(s.machineId, s.value);
    $('#legs tbody').replaceChildren(
      ...s.legs.map((l) => {
        const tr = el('tr');
        tr.append(
          el('td', {}, `${l.symbol} @ ${l.venue}`),
          el('td', { class: 'num' }, String(+l.position.toFixed(8))),
          el('td', { class: 'num' }, fmt(l.realizedPnl)),
          el('td', { class: 'num' }, fmt(l.fees)),
          el('td', { class: 'num' }, fmt(l.funding)),
        );
        return tr;
      }),
    );
    $('#pnl').textContent =
      `net ${fmt(s.netPnl)} = realized ${fmt(s.realizedPnl)} + unrealized ${fmt(s.unrealizedPnl)} − fees ${fmt(s.fees)} + funding ${fmt(s.funding)}`;
    const orders = s.context.orders && typeof s.context.orders === 'object' ? s.context.orders : {};
    $('#orders').replaceChildren(
      ...(s.openOrders.length ? s.openOrders : ['none']).map((id) => {
        const o = orders[id];
        return el(
          'li',
          {},
          o ? `${id} ${o.side} ${o.amount} @ ${o.price ?? 'mkt'} (${o.status}, filled ${o.filled})` : id,
        );
      }),
    );
    $('#locks').textContent = s.locks.join(', ') || 'none';
    const ctx = $('#context');
    const open = ctx.firstChild?.open;
    ctx.replaceChildren(tree(s.context));
    if (open !== false) ctx.firstChild.open = true;
  }

  function renderEvents(events) {
    const list = $('#events');
    const showAll = $('#show-quotes').checked;
    for (const e of events) {
      if (!showAll && /^(QUOTE|TIME\.TICK|FUNDING\.RATE)$/.test(e.type)) continue;
      list.prepend(el('li', {}, `${new Date(e.at).toISOString().slice(11, 23)}  ${e.type}`));
    }
    while (list.children.length > 300) list.lastChild.remove();
  }

  function line(points, x, y, cls) {
    return svgEl('path', {
      class: cls,
      d: points.map((p, i) => `${i ? 'L' : 'M'}${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(''),
    });
  }

  function renderChart() {
    const pts = series.slice(-600);
    for (const [id, keys, h] of [
      ['#chart-price', ['price', 'signal'], 120],
      ['#chart-pnl', ['pnl'], 80],
    ]) {
      const svg = $(id);
      svg.replaceChildren();
      if (pts.length < 2) continue;
      const t0 = pts[0].ts;
      const t1 = pts.at(-1).ts;
      const x = (p) => 30 + ((p.ts - t0) / Math.max(1, t1 - t0)) * 380;
      for (const k of keys) {
        const vals = pts.filter((p) => typeof p[k] === 'number' && Number.isFinite(p[k]));
        if (vals.length < 2) continue;
        let lo = Math.min(...vals.map((p) => p[k]));
        let hi = Math.max(...vals.map((p) => p[k]));
        if (hi - lo < 1e-9) {
          lo -= 1;
          hi += 1;
        }
        const y = (p) => 6 + (1 - (p[k] - lo) / (hi - lo)) * (h - 16);
        svg.append(line(vals, x, y, k));
        const lbl = svgEl('text', { x: 2, y: k === 'signal' ? h - 4 : 10 });
        lbl.textContent = `${k} ${fmt(vals.at(-1)[k], k === 'price' ? 2 : 2)}`;
        svg.append(lbl);
      }
    }
  }

  // ---------------------------------------------------------------- selection & socket
  async function select(id) {
    if (id === selected) return;
    selected = id;
    series = [];
    lastValue = undefined;
    location.hash = encodeURIComponent(id);
    for (const tr of document.querySelectorAll('#strategies tbody tr'))
      tr.classList.toggle('sel', tr.getAttribute('data-id') === id);
    $('#detail').hidden = false;
    $('#sel-id').textContent = id;
    $('#events').replaceChildren();
    $('#diagram').replaceChildren(el('p', { class: 'muted' }, 'drawing the statechart…'));
    ws?.send(JSON.stringify({ type: 'select', id }));
    const res = await fetch(`api/strategies/${encodeURIComponent(id)}/graph${q}`);
    if (!res.ok || selected !== id) return;
    const graph = await res.json();
    const info = await (await fetch(`api/strategies/${encodeURIComponent(id)}${q}`)).json();
    $('#sel-kind').textContent = info.kind;
    graphFor = id;
    await drawGraph(graph);
    renderState(info);
  }

  /** POST an action; its answer (refusals included) goes to the confirmation line. */
  async function act(action, flatten) {
    const id = selected;
    const sep = q ? '&' : '?';
    const res = await fetch(
      `api/strategies/${encodeURIComponent(id)}/${action}${q}${flatten ? `${sep}flatten=true` : ''}`,
      { method: 'POST' },
    );
    const body = await res.json().catch(() => ({}));
    $('#confirm').hidden = true;
    if (!res.ok) {
      $('#sel-attention').hidden = false;
      $('#sel-attention').textContent = `${action} ${id}: ${body.result ?? body.error ?? res.status}`;
    }
  }

  /** Stop, Flatten and Resolve change positions or release locks: each asks first. */
  function confirmAction(action) {
    const id = selected;
    const text = {
      stop: `Stop ${id}? Flatten closes its positions first; keeping them leaves them with you (a strategy in needs attention only stops flattened).`,
      flatten: `Flatten ${id}: close both legs at market now?`,
      resolve: `Resolve ${id}: you have fixed its positions by hand; it stops and releases its locks?`,
    }[action];
    $('#confirm-text').textContent = text;
    $('#confirm-flatten').hidden = action !== 'stop';
    $('#confirm-keep').hidden = action !== 'stop';
    $('#confirm-yes').hidden = action === 'stop';
    $('#confirm-flatten').onclick = () => act('stop', true);
    $('#confirm-keep').onclick = () => act('stop', false);
    $('#confirm-yes').onclick = () => act(action, false);
    $('#confirm-cancel').onclick = () => {
      $('#confirm').hidden = true;
    };
    $('#confirm').hidden = false;
  }

  for (const b of document.querySelectorAll('#controls button'))
    b.onclick = async () => {
      if (!selected) return;
      const action = b.dataset.action;
      if (action === 'pause' || action === 'resume') await act(action, false);
      else confirmAction(action);
    };

  function connect() {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${q}`);
    ws.onopen = () => {
      $('#conn').textContent = 'live';
      $('#conn').className = 'conn ok';
      if (selected) ws.send(JSON.stringify({ type: 'select', id: selected }));
    };
    ws.onclose = () => {
      $('#conn').textContent = 'disconnected — retrying';
      $('#conn').className = 'conn bad';
      setTimeout(connect, 1000);
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'hello') {
        controls = msg.controls;
        $('#controls').hidden = !controls;
        renderList(msg.strategies);
      } else if (msg.type === 'strategies') renderList(msg.list);
      else if (msg.id !== selected) return;
      else if (msg.type === 'state') renderState(msg);
      else if (msg.type === 'events') renderEvents(msg.events);
      else if (msg.type === 'series') {
        series.push(...msg.points);
        renderChart();
      }
    };
  }
  connect();
})();
