/* The operations map: live positions, zones, route replay, and the zone editor.
 * Leaflet and leaflet-geoman are loaded before this file (deferred, in order). Without tiles
 * configured the map is a plain grid. Nothing here moves the keyboard focus: refreshes are
 * announced by the polite live region under the map. */
(function () {
  "use strict";
  var REFRESH_MS = 10000;

  var Grid = L.GridLayer.extend({
    createTile: function () {
      var tile = document.createElement("div");
      tile.className = "haven-grid-tile";
      return tile;
    }
  });

  function newMap(element) {
    var map = L.map(element, { worldCopyJump: true });
    var url = element.dataset.tileUrl;
    if (url) {
      L.tileLayer(url, { attribution: element.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    } else {
      element.classList.add("haven-map--grid");
      new Grid().addTo(map);
    }
    map.setView([54.0, -2.5], 6);
    return map;
  }

  function zoneLayer(zone) {
    var area = zone.area || {};
    var style = { color: zone.kind === "exclusion" ? "#d4351c" : "#00703c", weight: 2 };
    if (area.circle) {
      return L.circle([area.circle.lat, area.circle.lon], Object.assign({ radius: area.circle.radius_m }, style));
    }
    if (area.polygon) {
      return L.polygon(area.polygon, style);
    }
    return null;
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.className = "govuk-table__cell";
    td.textContent = text;
    row.appendChild(td);
  }

  function when(iso) {
    return new Date(iso).toLocaleString();
  }

  function live(element) {
    var map = newMap(element);
    var markers = L.layerGroup().addTo(map);
    var zones = L.layerGroup().addTo(map);
    var summary = document.getElementById("map-summary");
    var rows = document.getElementById("position-rows");
    var fitted = false;
    var lastSummary = "";

    function draw(data) {
      markers.clearLayers();
      zones.clearLayers();
      var bounds = [];
      data.zones.forEach(function (zone) {
        var layer = zoneLayer(zone);
        if (layer) { layer.bindTooltip(zone.name).addTo(zones); }
      });
      rows.textContent = "";
      data.devices.forEach(function (device) {
        var where = [device.lat, device.lon];
        bounds.push(where);
        L.circleMarker(where, { radius: 7, color: "#1d70b8", fillOpacity: 0.8 })
          .bindTooltip(device.name + " – " + when(device.at))
          .addTo(markers);
        if (device.accuracy) {
          L.circle(where, { radius: device.accuracy, weight: 1, fillOpacity: 0.1 }).addTo(markers);
        }
        var row = document.createElement("tr");
        row.className = "govuk-table__row";
        cell(row, device.name + " (" + device.device_id + ")");
        cell(row, when(device.at));
        cell(row, device.lat.toFixed(5) + ", " + device.lon.toFixed(5));
        cell(row, device.status);
        rows.appendChild(row);
      });
      if (!data.devices.length) {
        var empty = document.createElement("tr");
        empty.className = "govuk-table__row";
        cell(empty, "No positions yet for the devices you may see.");
        rows.appendChild(empty);
      }
      if (!fitted && bounds.length) {
        map.fitBounds(bounds, { maxZoom: 16, padding: [30, 30] });
        fitted = true;
      }
      var newest = data.devices.map(function (d) { return d.at; }).sort().pop();
      var text = data.devices.length + " device" + (data.devices.length === 1 ? "" : "s") + " on the map" +
        (newest ? ", newest fix " + when(newest) : "") + ".";
      if (text !== lastSummary) { summary.textContent = text; lastSummary = text; }
    }

    function refresh() {
      fetch(element.dataset.positionsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(draw)
        .catch(function () {
          var text = "Positions could not be refreshed; trying again shortly.";
          if (text !== lastSummary) { summary.textContent = text; lastSummary = text; }
        });
    }
    refresh();
    window.setInterval(refresh, REFRESH_MS);
    return map;
  }

  function replay(map, form) {
    var slider = document.getElementById("replay-slider");
    var status = document.getElementById("replay-status");
    var route = L.layerGroup().addTo(map);
    var marker = null;
    var points = [];

    function show(index) {
      var point = points[index];
      if (!point) { return; }
      marker.setLatLng([point.lat, point.lon]);
      var speed = point.speed_mps === null ? "speed unknown" : (point.speed_mps * 3.6).toFixed(0) + " km/h";
      status.textContent = "Fix " + (index + 1) + " of " + points.length + ": " + when(point.at) + ", " + speed + ".";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var url = form.dataset.routeUrlTemplate.replace(form.dataset.firstDevice, form.elements.device.value) +
        "?from=" + encodeURIComponent(form.elements.from.value) + "&to=" + encodeURIComponent(form.elements.to.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          route.clearLayers();
          points = data.points;
          slider.max = Math.max(points.length - 1, 0);
          slider.value = 0;
          slider.disabled = points.length === 0;
          if (!points.length) {
            status.textContent = "No positions in that time range.";
            return;
          }
          var line = points.map(function (p) { return [p.lat, p.lon]; });
          L.polyline(line, { color: "#4c2c92", weight: 3 }).addTo(route);
          data.stops.forEach(function (stop) {
            L.circleMarker([stop.lat, stop.lon], { radius: 5, color: "#f47738" })
              .bindTooltip("Stop " + when(stop.start) + " – " + when(stop.end)).addTo(route);
          });
          marker = L.circleMarker(line[0], { radius: 8, color: "#0b0c0c", fillOpacity: 1 }).addTo(route);
          map.fitBounds(line, { maxZoom: 16, padding: [30, 30] });
          status.textContent = points.length + " fixes, " + data.trips.length + " trips, " + data.stops.length + " stops.";
        })
        .catch(function () { status.textContent = "The route could not be loaded."; });
    });
    slider.addEventListener("input", function () { show(Number(slider.value)); });
  }

  function zoneEditor(element) {
    var map = newMap(element);
    var form = document.querySelector("[data-zone-form]");
    var layer = null;

    function field(name) { return form.elements[name]; }
    function shape() {
      var checked = form.querySelector("input[name=shape]:checked");
      return checked ? checked.value : "circle";
    }
    function setShape(value) {
      var radio = form.querySelector("input[name=shape][value=" + value + "]");
      if (radio) { radio.checked = true; }
    }

    function toForm() {
      if (layer instanceof L.Circle) {
        var centre = layer.getLatLng();
        setShape("circle");
        field("lat").value = centre.lat.toFixed(6);
        field("lon").value = centre.lng.toFixed(6);
        field("radius_m").value = Math.round(layer.getRadius());
      } else if (layer instanceof L.Polygon) {
        setShape("polygon");
        field("points").value = layer.getLatLngs()[0].map(function (p) {
          return p.lat.toFixed(6) + ", " + p.lng.toFixed(6);
        }).join("\n");
      }
    }

    function adopt(newLayer) {
      if (layer) { map.removeLayer(layer); }
      layer = newLayer;
      layer.addTo(map);
      layer.on("pm:edit pm:dragend", toForm);
    }

    function fromForm() {
      var zone = null;
      if (shape() === "polygon") {
        var corners = field("points").value.split(/\n|;/).map(function (line) {
          return line.split(",").map(Number);
        }).filter(function (pair) { return pair.length === 2 && !isNaN(pair[0]) && !isNaN(pair[1]); });
        if (corners.length >= 3) { zone = L.polygon(corners); }
      } else {
        var lat = parseFloat(field("lat").value), lon = parseFloat(field("lon").value);
        var radius = parseFloat(field("radius_m").value);
        if (!isNaN(lat) && !isNaN(lon) && radius > 0) { zone = L.circle([lat, lon], { radius: radius }); }
      }
      if (zone) {
        adopt(zone);
        map.fitBounds(zone.getBounds(), { maxZoom: 17, padding: [20, 20] });
      }
    }

    map.pm.addControls({
      position: "topleft",
      drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawRectangle: false,
      drawText: false, cutPolygon: false, rotateMode: false, removalMode: false,
      drawCircle: true, drawPolygon: true, editMode: true, dragMode: true
    });
    // geoman's buttons are links with only an icon: give each its tooltip as its name
    map.getContainer().querySelectorAll(".leaflet-buttons-control-button").forEach(function (button) {
      var title = button.parentElement && button.parentElement.getAttribute("title");
      if (title && !button.getAttribute("aria-label")) { button.setAttribute("aria-label", title); }
    });
    map.on("pm:create", function (event) {
      adopt(event.layer);
      toForm();
    });
    ["lat", "lon", "radius_m", "points"].forEach(function (name) {
      field(name).addEventListener("change", fromForm);
    });
    form.querySelectorAll("input[name=shape]").forEach(function (radio) {
      radio.addEventListener("change", fromForm);
    });
    fromForm();
  }

  document.querySelectorAll("[data-map=live]").forEach(function (element) {
    var map = live(element);
    var form = document.querySelector("[data-replay-form]");
    if (form) { replay(map, form); }
  });
  document.querySelectorAll("[data-map=zone-editor]").forEach(zoneEditor);
})();
