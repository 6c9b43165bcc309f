// rockzoom map page: the input tree and the upscaled trees as Leaflet tile layers, a swipe between two of them.
// Its settings come from the page's <script id="rockzoom-config" type="application/json"> (rockzoom.generation.map_page).
// Tiles are requested only where a layer's coverage masks say a tile exists (no mask for a zoom: no tile there), so
// the page asks for no missing file.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rockzoom-config").textContent);

  // ---------------------------------------------------------------- coverage masks (one bit per tile, rows in XYZ)
  // one mask per zoom the layer holds; a mask may be coarser than its zoom (a bit then stands for the children)
  function hasTile(masks) {
    var by = {};
    masks.forEach(function (c) {
      var raw = atob(c.bits), n = c.width * c.height, bits = new Uint8Array(n);
      for (var i = 0; i < n; i++) bits[i] = (raw.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
      by[c.native] = { k: c.native - c.zoom, x0: c.x0, y0: c.y0, w: c.width, h: c.height, bits: bits };
    });
    return function has(x, y, z) {
      var m = by[z];
      if (!m) return false;
      var i = Math.floor(x / Math.pow(2, m.k)) - m.x0, j = Math.floor(y / Math.pow(2, m.k)) - m.y0;
      return i >= 0 && j >= 0 && i < m.w && j < m.h && m.bits[j * m.w + i] === 1;
    };
  }

  var MaskedTileLayer = L.TileLayer.extend({
    _isValidTile: function (coords) {
      return L.TileLayer.prototype._isValidTile.call(this, coords) && this.options.has(coords.x, coords.y, coords.z);
    }
  });

  // ---------------------------------------------------------------- the map and its layers
  var map = L.map("map", { minZoom: cfg.minZoom, maxZoom: cfg.maxZoom, zoomSnap: 1, attributionControl: false });
  var stats = [];
  var layers = cfg.layers.map(function (d, i) {
    var layer = new MaskedTileLayer(d.url, {
      tms: d.tms, minNativeZoom: d.minNativeZoom, maxNativeZoom: d.maxNativeZoom, minZoom: d.minZoom,
      maxZoom: cfg.maxZoom, className: d.pixelated ? "rz-pixelated" : "", has: hasTile(d.coverage),
      keepBuffer: 1, updateWhenZooming: false
    });
    var s = { name: d.name, loaded: {}, failed: {}, failedUrls: [] };
    stats.push(s);
    layer.on("tileload", function (e) { s.loaded[e.coords.z] = (s.loaded[e.coords.z] || 0) + 1; });
    layer.on("tileerror", function (e) {
      s.failed[e.coords.z] = (s.failed[e.coords.z] || 0) + 1;
      s.failedUrls.push(e.tile.src);
    });
    return layer;
  });

  // ---------------------------------------------------------------- view from the URL hash (#z=25&lat=..&lng=..)
  function readHash() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var p = kv.split("=");
      if (p.length === 2) out[p[0]] = decodeURIComponent(p[1]);
    });
    return out;
  }
  var state = { left: cfg.left, right: cfg.right, mode: "swipe", split: 0.5 }, written = "";
  function fromHash() {
    var h = readHash();
    state.left = h.left !== undefined ? +h.left : state.left;
    state.right = h.right !== undefined ? +h.right : state.right;
    state.mode = h.mode || state.mode;
    state.split = h.split !== undefined ? +h.split : state.split;
    var c = map._loaded ? map.getCenter() : L.latLng(cfg.focus);
    map.setView(h.lat !== undefined && h.lng !== undefined ? [+h.lat, +h.lng] : c,
                h.z !== undefined ? +h.z : (map._loaded ? map.getZoom() : cfg.startZoom), { animate: false });
  }
  fromHash();
  window.addEventListener("hashchange", function () {
    if (location.hash === written) return;
    fromHash();
    document.getElementById("left").value = state.left;
    document.getElementById("right").value = state.right;
    modeSel.value = state.mode;
    applyLayers();
  });

  function writeHash() {
    var c = map.getCenter();
    var s = "#z=" + map.getZoom() + "&lat=" + c.lat.toFixed(8) + "&lng=" + c.lng.toFixed(8) + "&left=" + state.left +
      "&right=" + state.right + "&mode=" + state.mode + "&split=" + state.split.toFixed(3);
    written = s;
    if (history.replaceState) history.replaceState(null, "", s);
  }

  // ---------------------------------------------------------------- swipe: the right layer is clipped to the right
  var divider = document.getElementById("divider");
  function shown() {
    if (state.mode === "left") return [state.left];
    if (state.mode === "right") return [state.right];
    return state.left === state.right ? [state.left] : [state.left, state.right];
  }
  function applyLayers() {
    var want = shown();
    layers.forEach(function (l, i) {
      if (want.indexOf(i) >= 0) { if (!map.hasLayer(l)) map.addLayer(l); } else if (map.hasLayer(l)) map.removeLayer(l);
    });
    layers[state.left].setZIndex(1);
    layers[state.right].setZIndex(2);
    divider.style.display = state.mode === "swipe" && state.left !== state.right ? "block" : "none";
    clip();
    describe();
    writeHash();
  }
  function clip() {
    var size = map.getSize(), nw = map.containerPointToLayerPoint([0, 0]), se = map.containerPointToLayerPoint(size);
    var x = Math.round(size.x * state.split), cx = nw.x + x;
    divider.style.left = x + "px";
    layers.forEach(function (l) { if (l.getContainer()) l.getContainer().style.clip = ""; });
    if (state.mode !== "swipe" || state.left === state.right) return;
    var L_ = layers[state.left].getContainer(), R_ = layers[state.right].getContainer();
    if (L_) L_.style.clip = "rect(" + [nw.y, cx, se.y, nw.x].join("px,") + "px)";
    if (R_) R_.style.clip = "rect(" + [nw.y, se.x, se.y, cx].join("px,") + "px)";
  }
  var dragging = false;
  divider.addEventListener("pointerdown", function (e) {
    dragging = true; divider.setPointerCapture(e.pointerId); e.preventDefault(); e.stopPropagation();
  });
  divider.addEventListener("pointermove", function (e) {
    if (!dragging) return;
    var r = map.getContainer().getBoundingClientRect();
    state.split = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    clip();
  });
  divider.addEventListener("pointerup", function () { dragging = false; writeHash(); });
  L.DomEvent.disableClickPropagation(divider);
  map.on("move zoom resize", clip);
  map.on("moveend zoomend", function () { describe(); writeHash(); });

  // ---------------------------------------------------------------- the panel: layer choice, mode, zooms
  function fillSelect(id, value) {
    var sel = document.getElementById(id);
    cfg.layers.forEach(function (d, i) {
      var o = document.createElement("option");
      o.value = i; o.textContent = d.name; sel.appendChild(o);
    });
    sel.value = value;
    sel.addEventListener("change", function () { state[id] = +sel.value; applyLayers(); });
  }
  fillSelect("left", state.left);
  fillSelect("right", state.right);
  var modeSel = document.getElementById("mode");
  modeSel.value = state.mode;
  modeSel.addEventListener("change", function () { state.mode = modeSel.value; applyLayers(); });

  var zooms = document.getElementById("zooms");
  for (var z = cfg.minZoom; z <= cfg.maxZoom; z++) {
    (function (z) {
      var b = document.createElement("button");
      b.textContent = "z" + z; b.id = "zoom-" + z;
      b.title = cfg.layers.filter(function (d) { return z >= d.minNativeZoom && z <= d.maxNativeZoom; })
        .map(function (d) { return d.name; }).join(", ") || "no layer has tiles at this zoom";
      b.addEventListener("click", function () { map.setZoom(z); });
      zooms.appendChild(b);
    })(z);
  }

  function nativeText(d, z) {
    if (z < d.minZoom) return "hidden below z" + d.minZoom;
    if (z > d.maxNativeZoom) return "z" + d.maxNativeZoom + " pixels enlarged x" + (1 << (z - d.maxNativeZoom));
    if (z < d.minNativeZoom) return "z" + d.minNativeZoom + " tiles reduced";
    return "its own z" + z + " tiles";
  }
  function describe() {
    var z = map.getZoom();
    document.getElementById("view").textContent = "zoom " + z + " \u2014 left: " +
      nativeText(cfg.layers[state.left], z) + "; right: " + nativeText(cfg.layers[state.right], z);
    Array.prototype.forEach.call(zooms.children, function (b) { b.classList.toggle("rz-on", b.id === "zoom-" + z); });
  }

  // the page's own folder in the QGIS line of the "zooms and files" fold
  Array.prototype.forEach.call(document.querySelectorAll(".rz-here"), function (el) {
    el.textContent = decodeURI(location.href.replace(/[#?].*$/, "").replace(/[^/]*$/, "")) + el.dataset.tail;
  });

  // ---------------------------------------------------------------- for tests: tile counts and an idle flag
  window.rockzoom = {
    map: map, layers: layers, stats: stats, state: state,
    idle: function () {
      return layers.every(function (l) { return !map.hasLayer(l) || !l.isLoading(); });
    }
  };
  applyLayers();
})();
