import Foundation
import SnuffelGround

/// The review app's pages, stylesheet and script (our own, no third-party code).
enum ReviewPage {
    /// JSON to place in a `<script type="application/json">`: no `<` can end the element.
    static func embedded(_ json: String) -> String {
        json.replacingOccurrences(of: "<", with: "\\u003c")
    }

    static func head(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(title))</title><link rel="stylesheet" href="/static/review.css">
        """
    }

    /// The list of the flights given.
    static func index(flights: [ReviewedFlight]) -> String {
        var h = head(title: "Snuffel review") + "</head><body><h1>Snuffel review</h1><ul id=\"flights\">\n"
        for (k, f) in flights.enumerated() {
            let alerts = f.view.detections.filter(\.isAlert).count
            h += "<li><a href=\"/flight/\(k)\">\(escapeHTML(f.view.logName))</a>: \(f.view.detections.count) detections, \(alerts) alerts</li>\n"
        }
        return h + "</ul></body></html>\n"
    }

    /// A flight's page: map, plot, detection list with marks and filters, re-run, audit trail.
    static func flight(
        _ flight: ReviewedFlight, index: Int, marks: [Int: ReviewMark], csrfToken: String, reviewer: String, tileURL: String?
    ) -> String {
        let v = flight.view
        var marksJSON = "{}"
        if let data = try? JSONEncoder().encode(Dictionary(uniqueKeysWithValues: marks.map { (String($0.key), $0.value) })) {
            marksJSON = String(decoding: data, as: UTF8.self)
        }
        let tiles = tileURL.map { " data-tiles=\"\(escapeHTML($0))\"" } ?? ""
        return head(title: "Review: \(v.logName)") + """
            <meta name="csrf-token" content="\(csrfToken)">
            </head><body data-flight="\(index)"\(tiles)>
            <header><h1>Review: \(escapeHTML(v.logName))</h1>
            <p><a href="/">all flights</a> · \(v.detections.count) detections · \(v.sources.count) source\(v.sources.count == 1 ? "" : "s") · wind \(escapeHTML(v.wind)) · <span id="status" role="status"></span></p></header>
            <main>
            <section id="map-panel"><div class="toolbar">
            <label><input type="checkbox" id="layer-track" checked> track</label>
            <label><input type="checkbox" id="layer-gas" checked> gas map</label>
            <label><input type="checkbox" id="layer-sources" checked> sources</label>
            \(tileURL == nil ? "" : #"<label><input type="checkbox" id="layer-tiles"> online map</label>"#)
            <button type="button" id="zoom-fit">whole flight</button>
            <span class="hint">wheel: zoom · drag: pan · click a detection</span></div>
            \(FlightSVG.map(v, width: 760))
            </section>
            <section id="plot-panel"><div class="toolbar"><span class="hint">move over the plot: the map shows where the drone was · click a shaded span: select the detection</span></div>
            \(FlightSVG.plot(v, width: 760))
            </section>
            <section id="list-panel"><h2>Detections</h2>
            <div class="toolbar">
            <label>class <select id="filter-class"><option value="">all</option></select></label>
            <label>confidence at least <input type="number" id="filter-confidence" min="0" max="1" step="0.05" value="0"></label>
            <label>review <select id="filter-reviewed"><option value="">all</option><option value="yes">reviewed</option><option value="no">not reviewed</option></select></label>
            <label>reviewer <input type="text" id="reviewer" maxlength="200" value="\(escapeHTML(reviewer))"></label>
            </div>
            <table id="detection-list"><thead><tr><th>#</th><th>peak</th><th>class</th><th>conf.</th><th>compounds (ppm)</th><th>mark</th><th>judge</th></tr></thead><tbody></tbody></table>
            </section>
            <section id="rerun-panel"><h2>Re-run detection with other settings</h2>
            <div class="toolbar">
            <label>hit on (σ) <input type="number" id="rerun-hit-on" step="0.5" min="0.5" value="\(v.hitOnSigma)"></label>
            <label>hit off (σ) <input type="number" id="rerun-hit-off" step="0.5" min="0.5" value="\(v.hitOffSigma)"></label>
            <label>channels needed <input type="number" id="rerun-min-channels" step="1" min="1" placeholder="as recorded"></label>
            <label>alert confidence <input type="number" id="rerun-alert" step="0.05" min="0" max="1" placeholder="as recorded"></label>
            <button type="button" id="rerun">re-run</button></div>
            <div id="rerun-result"></div>
            </section>
            <section id="audit-panel"><h2>Audit trail</h2><table id="audit"><thead><tr><th>when</th><th>who</th><th>#</th><th>verdict</th><th>note</th></tr></thead><tbody></tbody></table></section>
            </main>
            <script type="application/json" id="flight-data">\(embedded(flight.viewJSON))</script>
            <script type="application/json" id="marks-data">\(embedded(marksJSON))</script>
            <script src="/static/review.js"></script>
            </body></html>

            """
    }

    static let css = """
        body{font-family:system-ui,sans-serif;margin:12px;color:#222}h1{font-size:1.3em;margin:0}h2{font-size:1.1em}
        main{display:grid;grid-template-columns:minmax(0,780px) minmax(0,1fr);gap:12px}
        #map-panel,#plot-panel{grid-column:1}#list-panel{grid-column:2;grid-row:1/span 2;overflow:auto;max-height:1000px}
        #rerun-panel,#audit-panel{grid-column:1/span 2}
        .toolbar{font-size:.85em;margin:4px 0;display:flex;gap:10px;flex-wrap:wrap;align-items:center}.hint{color:#777}
        svg{border:1px solid #ccc;max-width:100%;height:auto}#map{cursor:grab;touch-action:none}
        table{border-collapse:collapse;font-size:.85em;width:100%}th,td{border:1px solid #ddd;padding:2px 5px;text-align:left;vertical-align:top}
        tr.selected td{background:#fff3b0}tr.detection-row{cursor:pointer}.alert{color:#b00;font-weight:bold}
        .note{color:#555;font-style:italic}.note-input{width:9em}
        g.detection.selected .dot{stroke:#000;stroke-width:3}g.detection.filtered{display:none}
        rect.span.selected{fill-opacity:.45}#plot polyline,#plot line,#plot text{pointer-events:none}.hidden{display:none}
        .status-gone{color:#b00}.status-new{color:#070}.status-changed{color:#a60}
        #status.error{color:#b00;font-weight:bold}
        """

    /// The page's script: draws the detection list, links map, plot and list, filters,
    /// sends marks and re-runs, pans and zooms the map and lays online tiles under it.
    static let script = #"""
        'use strict';
        (function () {
          const data = JSON.parse(document.getElementById('flight-data').textContent);
          let marks = JSON.parse(document.getElementById('marks-data').textContent);
          const flight = document.body.dataset.flight;
          const csrf = document.querySelector('meta[name=csrf-token]').content;
          const map = document.getElementById('map');
          const plot = document.getElementById('plot');
          const tbody = document.querySelector('#detection-list tbody');
          const status = document.getElementById('status');
          const SVGNS = 'http://www.w3.org/2000/svg';
          const byseq = new Map(data.detections.map(d => [d.sequence, d]));

          function el(tag, attrs, text) {
            const e = document.createElement(tag);
            for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
            if (text !== undefined) e.textContent = text;
            return e;
          }
          function fmt(x, digits) { return typeof x === 'number' ? x.toFixed(digits) : '-'; }
          function say(text, bad) { status.textContent = text; status.className = bad ? 'error' : ''; }

          // ---- the detection list and its filters
          const classes = [...new Set(data.detections.map(d => d.signatureClass))].sort();
          const classFilter = document.getElementById('filter-class');
          for (const c of classes) classFilter.appendChild(el('option', { value: c }, c));
          const confidenceFilter = document.getElementById('filter-confidence');
          const reviewedFilter = document.getElementById('filter-reviewed');
          const reviewer = document.getElementById('reviewer');

          function renderList() {
            tbody.textContent = '';
            for (const d of data.detections) {
              const m = marks[d.sequence];
              const tr = el('tr', { 'class': 'detection-row', 'data-seq': d.sequence, 'data-class': d.signatureClass,
                                    'data-confidence': d.confidence, 'data-reviewed': m ? 'yes' : 'no' });
              tr.appendChild(el('td', {}, String(d.sequence)));
              tr.appendChild(el('td', {}, d.peakUTC ? d.peakUTC.slice(11, 19) : 't+' + fmt(d.peak, 1) + ' s'));
              tr.appendChild(el('td', { 'class': d.isAlert ? 'alert' : '' },
                d.signatureClass + (d.isConfounder ? ' (confounder)' : '') + (d.isAlert ? ' ALERT' : '')));
              tr.appendChild(el('td', {}, fmt(d.confidence, 2)));
              tr.appendChild(el('td', {}, d.compounds.slice(0, 3).map(c => c.id + ' ' + fmt(c.ppm, 2)).join(', ')));
              const mark = el('td', { 'class': 'mark' });
              mark.appendChild(el('span', { 'class': 'verdict' }, m ? m.verdict + ' (' + m.reviewer + ')' : 'not reviewed'));
              if (m && m.note) mark.appendChild(el('div', { 'class': 'note' }, m.note));
              tr.appendChild(mark);
              const judge = el('td', { 'class': 'judge' });
              const note = el('input', { type: 'text', 'class': 'note-input', placeholder: 'note', maxlength: '4000' });
              note.value = m ? m.note : '';
              note.addEventListener('click', ev => ev.stopPropagation());
              judge.appendChild(note);
              for (const verdict of ['confirmed', 'rejected', 'unsure']) {
                const b = el('button', { type: 'button', 'data-verdict': verdict }, verdict);
                b.addEventListener('click', ev => { ev.stopPropagation(); sendMark(d.sequence, verdict, note.value); });
                judge.appendChild(b);
              }
              tr.appendChild(judge);
              tr.addEventListener('click', () => select(d.sequence, 'list'));
              tbody.appendChild(tr);
            }
            applyFilters();
            if (selected !== null) highlight(selected);
          }

          function applyFilters() {
            const cls = classFilter.value, least = parseFloat(confidenceFilter.value) || 0, rev = reviewedFilter.value;
            for (const d of data.detections) {
              const reviewed = marks[d.sequence] ? 'yes' : 'no';
              const shown = (!cls || d.signatureClass === cls) && d.confidence >= least && (!rev || rev === reviewed);
              const row = tbody.querySelector('tr[data-seq="' + d.sequence + '"]');
              if (row) row.hidden = !shown;
              const dot = map.querySelector('g.detection[data-seq="' + d.sequence + '"]');
              if (dot) dot.classList.toggle('filtered', !shown);
            }
          }
          for (const f of [classFilter, confidenceFilter, reviewedFilter]) for (const kind of ['input', 'change']) f.addEventListener(kind, applyFilters);

          // ---- marks and the audit trail
          async function sendMark(sequence, verdict, note) {
            try {
              const response = await fetch('/flight/' + flight + '/marks', {
                method: 'POST', credentials: 'same-origin',
                headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
                body: JSON.stringify({ sequence: sequence, verdict: verdict, note: note, reviewer: reviewer.value })
              });
              const body = await response.json();
              if (!response.ok) { say('not saved: ' + body.error, true); return; }
              marks[sequence] = body;
              say('#' + sequence + ' marked ' + verdict);
              renderList();
              loadAudit();
            } catch (e) { say('not saved: ' + e, true); }
          }

          async function loadAudit() {
            try {
              const response = await fetch('/flight/' + flight + '/marks', { credentials: 'same-origin' });
              if (!response.ok) return;
              const body = await response.json();
              const rows = document.querySelector('#audit tbody');
              rows.textContent = '';
              for (const a of body.audit.slice().reverse()) {
                const tr = el('tr');
                tr.appendChild(el('td', {}, a.time));
                tr.appendChild(el('td', {}, a.reviewer));
                tr.appendChild(el('td', {}, String(a.sequence)));
                tr.appendChild(el('td', {}, (a.oldVerdict || '–') + ' → ' + a.newVerdict));
                tr.appendChild(el('td', {}, a.oldNote !== null && a.oldNote !== undefined && a.oldNote !== a.newNote
                  ? a.oldNote + ' → ' + a.newNote : a.newNote));
                rows.appendChild(tr);
              }
            } catch (e) { say('audit trail not loaded: ' + e, true); }
          }

          // ---- selecting a detection moves the map, the plot and the list together
          let selected = null;
          function highlight(sequence) {
            for (const g of document.querySelectorAll('.selected')) g.classList.remove('selected');
            const dot = map.querySelector('g.detection[data-seq="' + sequence + '"]');
            if (dot) dot.classList.add('selected');
            const row = tbody.querySelector('tr[data-seq="' + sequence + '"]');
            if (row) row.classList.add('selected');
            const span = plot.querySelector('rect.span[data-seq="' + sequence + '"]');
            if (span) span.classList.add('selected');
            return row;
          }
          function select(sequence, from) {
            selected = sequence;
            const d = byseq.get(sequence);
            const row = highlight(sequence);
            if (!d) return;
            if (from !== 'list' && row) row.scrollIntoView({ block: 'nearest' });
            setCursor(d.peak);
            if (typeof d.east === 'number') centre(d.east, -d.north);
            say('#' + sequence + ' ' + d.signatureClass + ', confidence ' + fmt(d.confidence, 2));
          }

          // ---- the plot: a cursor at a time, and the drone's place at that time on the map
          const t0 = parseFloat(plot.dataset.t0), t1 = parseFloat(plot.dataset.t1);
          const x0 = parseFloat(plot.dataset.x0), x1 = parseFloat(plot.dataset.x1);
          const cursor = plot.querySelector('line.cursor');
          const here = document.createElementNS(SVGNS, 'circle');
          here.setAttribute('class', 'here');
          here.setAttribute('r', '0');
          here.setAttribute('fill', 'none');
          here.setAttribute('stroke', '#000');
          here.setAttribute('stroke-width', '2');
          here.setAttribute('vector-effect', 'non-scaling-stroke');
          map.appendChild(here);
          const points = data.track.flat();
          function setCursor(t) {
            const x = x0 + (x1 - x0) * Math.max(0, Math.min(1, (t - t0) / (t1 - t0)));
            if (cursor) { cursor.setAttribute('x1', x); cursor.setAttribute('x2', x); }
            let best = null;
            for (const p of points) if (best === null || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
            if (best && Math.abs(best.t - t) < 10) {
              here.setAttribute('cx', best.east); here.setAttribute('cy', -best.north);
              here.setAttribute('r', 2.5 * view.w / 200);
            } else { here.setAttribute('r', '0'); }
          }
          function plotTime(ev) {
            const box = plot.getBoundingClientRect();
            const x = (ev.clientX - box.left) * (plot.viewBox.baseVal.width / box.width);
            return t0 + (x - x0) / (x1 - x0) * (t1 - t0);
          }
          plot.addEventListener('mousemove', ev => setCursor(plotTime(ev)));
          plot.addEventListener('click', ev => {
            // The span under the pointer, else the detection whose span holds that time.
            const span = ev.target.closest('rect.span');
            if (span) { select(parseInt(span.dataset.seq, 10), 'plot'); return; }
            const t = plotTime(ev);
            const d = data.detections.find(d => d.onset <= t && t <= d.end);
            if (d) select(d.sequence, 'plot');
          });

          // ---- the map: pan and zoom by the viewBox; scale bar, north arrow and markers follow
          const full = map.viewBox.baseVal;
          const home = { x: full.x, y: full.y, w: full.width, h: full.height };
          let view = Object.assign({}, home);
          function nice(span) {
            const target = Math.max(span / 5, 1e-3), power = Math.pow(10, Math.floor(Math.log10(target)));
            for (const m of [1, 2, 5, 10]) if (m * power >= target) return m * power;
            return 10 * power;
          }
          function setView(v) {
            view = v;
            map.setAttribute('viewBox', [v.x, v.y, v.w, v.h].join(' '));
            const u = Math.max(v.w, v.h) / 200;
            for (const g of map.querySelectorAll('g.detection')) {
              g.querySelector('circle.dot').setAttribute('r', 1.6 * u);
              const c = g.querySelector('circle.dot'), t = g.querySelector('text');
              t.setAttribute('x', parseFloat(c.getAttribute('cx')) + 2 * u);
              t.setAttribute('y', parseFloat(c.getAttribute('cy')) - 2 * u);
              t.setAttribute('font-size', 4.5 * u);
            }
            const overlay = map.querySelector('g.overlay');
            if (overlay) {
              overlay.setAttribute('font-size', 4 * u);
              const bar = nice(v.w), bx = v.x + 0.04 * v.w, by = v.y + 0.95 * v.h;
              const r = overlay.querySelector('g.scalebar rect'), t = overlay.querySelector('g.scalebar text');
              r.setAttribute('x', bx); r.setAttribute('y', by - u); r.setAttribute('width', bar); r.setAttribute('height', u);
              t.setAttribute('x', bx); t.setAttribute('y', by - 2 * u);
              t.textContent = bar >= 1000 ? (bar / 1000) + ' km' : (bar >= 1 ? Math.round(bar) : bar.toFixed(2)) + ' m';
              const n = overlay.querySelector('g.north path'), nt = overlay.querySelector('g.north text');
              n.setAttribute('d', 'M' + (v.x + v.w - 8 * u) + ',' + (v.y + 14 * u) + 'l' + 3 * u + ',' + (-9 * u) +
                'l' + 3 * u + ',' + 9 * u + 'l' + (-3 * u) + ',' + (-2.5 * u) + 'z');
              nt.setAttribute('x', v.x + v.w - 6.3 * u); nt.setAttribute('y', v.y + 19 * u);
            }
            drawTiles();
          }
          function centre(x, y) { setView({ x: x - view.w / 2, y: y - view.h / 2, w: view.w, h: view.h }); }
          function toMap(ev) {
            const box = map.getBoundingClientRect();
            const s = Math.max(view.w / box.width, view.h / box.height);
            const ox = (box.width * s - view.w) / 2, oy = (box.height * s - view.h) / 2;
            return { x: view.x - ox + (ev.clientX - box.left) * s, y: view.y - oy + (ev.clientY - box.top) * s, s: s };
          }
          map.addEventListener('wheel', ev => {
            ev.preventDefault();
            const p = toMap(ev), k = ev.deltaY > 0 ? 1.25 : 0.8;
            setView({ x: p.x - (p.x - view.x) * k, y: p.y - (p.y - view.y) * k, w: view.w * k, h: view.h * k });
          }, { passive: false });
          let drag = null;
          map.addEventListener('pointerdown', ev => { drag = { start: toMap(ev), view: Object.assign({}, view), moved: false }; });
          map.addEventListener('pointermove', ev => {
            if (!drag) return;
            const box = map.getBoundingClientRect();
            const s = drag.start.s, dx = (ev.clientX - box.left) * s - (drag.start.x - drag.view.x + (box.width * s - drag.view.w) / 2);
            const dy = (ev.clientY - box.top) * s - (drag.start.y - drag.view.y + (box.height * s - drag.view.h) / 2);
            if (Math.abs(dx) + Math.abs(dy) > 2 * s) drag.moved = true;
            if (drag.moved) setView({ x: drag.view.x - dx, y: drag.view.y - dy, w: drag.view.w, h: drag.view.h });
          });
          map.addEventListener('pointerup', ev => {
            const d = drag; drag = null;
            if (d && d.moved) return;
            const g = ev.target.closest('g.detection');
            if (g) select(parseInt(g.dataset.seq, 10), 'map');
          });
          document.getElementById('zoom-fit').addEventListener('click', () => setView(Object.assign({}, home)));
          function layer(id, selector) {
            const box = document.getElementById(id), g = map.querySelector(selector);
            if (box && g) box.addEventListener('change', () => g.classList.toggle('hidden', !box.checked));
          }
          layer('layer-track', 'g.track');
          layer('layer-gas', 'g.gasmap');
          layer('layer-sources', 'g.sources');

          // ---- online tiles (XYZ, Web Mercator) under the drawing, when a tile URL was given
          const tileURL = document.body.dataset.tiles;
          const tilesBox = document.getElementById('layer-tiles');
          const lat0 = parseFloat(map.dataset.originLat), lon0 = parseFloat(map.dataset.originLon);
          const perLat = 110574, perLon = 111320 * Math.cos(lat0 * Math.PI / 180);
          function drawTiles() {
            const g = map.querySelector('g.tiles');
            if (!g) return;
            g.textContent = '';
            if (!tileURL || !tilesBox || !tilesBox.checked) return;
            const width = map.getBoundingClientRect().width || 760;
            const mpp = view.w / width;
            const z = Math.max(0, Math.min(19, Math.round(Math.log2(156543.03 * Math.cos(lat0 * Math.PI / 180) / mpp))));
            const n = Math.pow(2, z);
            const lonOf = x => x / n * 360 - 180;
            const latOf = y => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI;
            const tx = lon => Math.floor((lon + 180) / 360 * n);
            const ty = lat => { const r = lat * Math.PI / 180; return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n); };
            const west = lon0 + view.x / perLon, east = lon0 + (view.x + view.w) / perLon;
            const north = lat0 - view.y / perLat, south = lat0 - (view.y + view.h) / perLat;
            let count = 0;
            for (let x = tx(west); x <= tx(east); x++) {
              for (let y = ty(north); y <= ty(south); y++) {
                if (++count > 64) return;
                const img = document.createElementNS(SVGNS, 'image');
                const e0 = (lonOf(x) - lon0) * perLon, e1 = (lonOf(x + 1) - lon0) * perLon;
                const n0 = (latOf(y) - lat0) * perLat, n1 = (latOf(y + 1) - lat0) * perLat;
                img.setAttribute('x', e0); img.setAttribute('y', -n0);
                img.setAttribute('width', e1 - e0); img.setAttribute('height', n0 - n1);
                img.setAttribute('preserveAspectRatio', 'none');
                img.setAttribute('href', tileURL.replace('{z}', z).replace('{x}', x).replace('{y}', y));
                g.appendChild(img);
              }
            }
          }
          if (tilesBox) tilesBox.addEventListener('change', drawTiles);

          // ---- re-running detection with other settings
          document.getElementById('rerun').addEventListener('click', async () => {
            const number = id => { const v = document.getElementById(id).value; return v === '' ? null : Number(v); };
            const settings = { hitOnSigma: number('rerun-hit-on'), hitOffSigma: number('rerun-hit-off'),
                               minChannels: number('rerun-min-channels'), alertConfidence: number('rerun-alert') };
            const out = document.getElementById('rerun-result');
            out.textContent = 'running…';
            try {
              const response = await fetch('/flight/' + flight + '/rerun', {
                method: 'POST', credentials: 'same-origin',
                headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(settings) });
              const body = await response.json();
              out.textContent = '';
              if (!response.ok) { out.textContent = 'refused: ' + body.error; return; }
              out.appendChild(el('p', {}, body.before + ' detections with the recorded settings, ' + body.after + ' with these.'));
              const table = el('table', { id: 'rerun-changes' });
              const head = el('tr');
              for (const h of ['what happened', 'before', 'after', 'details']) head.appendChild(el('th', {}, h));
              table.appendChild(head);
              const name = d => d ? '#' + d.sequence + ' ' + d.signatureClass + ' ' + fmt(d.confidence, 2) : '–';
              for (const c of body.changes) {
                const tr = el('tr', { 'class': 'status-' + c.status });
                tr.appendChild(el('td', {}, c.status));
                tr.appendChild(el('td', {}, name(c.before)));
                tr.appendChild(el('td', {}, name(c.after)));
                tr.appendChild(el('td', {}, c.what));
                table.appendChild(tr);
              }
              out.appendChild(table);
            } catch (e) { out.textContent = 'failed: ' + e; }
          });

          renderList();
          setView(Object.assign({}, home));
          loadAudit();
          document.body.dataset.ready = 'yes';
        })();
        """#
}
