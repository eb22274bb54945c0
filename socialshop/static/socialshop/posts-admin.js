/* socialshop admin: place product tags on a post picture by clicking it, and pick the product by
   search. It fills the "Product tags" inline rows (product_id, variant_chosen, x, y). */
(function (d) {
  "use strict";
  function rows() {
    return Array.prototype.filter.call(d.querySelectorAll("tr.form-row, div.inline-related"), function (row) {
      // one tag form per row (the tabular wrapper div holds them all and is skipped)
      return row.querySelectorAll(".ss-tag-x").length === 1 && !row.classList.contains("empty-form") && !/__prefix__|-empty$/.test(row.id || "");
    });
  }
  function field(row, cls) { return row.querySelector("." + cls); }
  function emptyRow() {
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      if (!field(list[i], "ss-tag-product").value && !field(list[i], "ss-tag-x").value) return list[i];
    }
    var add = d.querySelector(".inline-group .add-row a");
    if (!add) return null;
    add.click();
    list = rows();
    return list[list.length - 1] || null;
  }
  function start() {
    var box = d.getElementById("ss-tagger");
    if (!box) return;
    var stage = box.querySelector("[data-ss-stage]"), img = box.querySelector("[data-ss-stage-img]");
    var picker = box.querySelector("[data-ss-picker]"), q = box.querySelector("[data-ss-picker-q]");
    var results = box.querySelector("[data-ss-picker-results]"), indexLabel = box.querySelector("[data-ss-picker-index]");
    var searchUrl = box.getAttribute("data-search-url"), max = parseInt(box.getAttribute("data-max-tags"), 10) || 20;
    var current = null, timer = null;

    function draw() {
      stage.querySelectorAll(".ss-marker").forEach(function (m) { m.remove(); });
      rows().forEach(function (row, i) {
        var x = parseFloat(field(row, "ss-tag-x").value), y = parseFloat(field(row, "ss-tag-y").value);
        var del = row.querySelector("input[name$='-DELETE']");
        if (isNaN(x) || isNaN(y) || (del && del.checked)) return;
        var m = d.createElement("button");
        m.type = "button"; m.className = "ss-marker" + (row === current ? " ss-current" : "");
        m.style.left = (x * 100) + "%"; m.style.top = (y * 100) + "%";
        m.textContent = String(i + 1);
        m.setAttribute("aria-label", "Tag " + (i + 1) + ": " + (field(row, "ss-tag-product").value || "no product yet"));
        m.addEventListener("click", function (e) { e.stopPropagation(); choose(row, i); });
        stage.appendChild(m);
      });
    }
    function choose(row, i) {
      current = row; picker.hidden = false; indexLabel.textContent = String(i + 1);
      q.value = ""; results.innerHTML = ""; q.focus(); draw();
    }
    img.addEventListener("click", function (e) {
      var rect = img.getBoundingClientRect();
      var x = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
      var y = Math.min(1, Math.max(0, (e.clientY - rect.top) / rect.height));
      var placed = rows().filter(function (r) { return field(r, "ss-tag-x").value; }).length;
      if (placed >= max) { alert("A post has at most " + max + " product tags."); return; }
      var row = emptyRow();
      if (!row) return;
      field(row, "ss-tag-x").value = x.toFixed(4);
      field(row, "ss-tag-y").value = y.toFixed(4);
      choose(row, rows().indexOf(row));
    });
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!q.value.trim()) { results.innerHTML = ""; return; }
        fetch(searchUrl + "?q=" + encodeURIComponent(q.value.trim()), { credentials: "same-origin" })
          .then(function (r) { return r.json(); }).then(function (data) {
            results.innerHTML = "";
            (data.results || []).forEach(function (item, n) {
              var li = d.createElement("li"), b = d.createElement("button");
              b.type = "button"; b.setAttribute("role", "option");
              b.textContent = item.title + (item.variant ? " — " + item.variant : "") + " (" + item.id + ") " + (item.price_text || (item.price + " " + item.currency));
              b.addEventListener("click", function () {
                if (!current) return;
                field(current, "ss-tag-product").value = item.id;
                var variant = current.querySelector("input[name$='-variant_chosen']");
                if (variant) variant.checked = !!item.variant && n >= 0 && item.id !== item.group_id;
                picker.hidden = true; current = null; draw();
              });
              li.appendChild(b); results.appendChild(li);
            });
          });
      }, 200);
    });
    q.addEventListener("keydown", function (e) { if (e.key === "Escape") { picker.hidden = true; current = null; draw(); } });
    d.addEventListener("input", function (e) { if (e.target.classList && (e.target.classList.contains("ss-tag-x") || e.target.classList.contains("ss-tag-y"))) draw(); });
    d.addEventListener("change", function (e) { if (e.target.name && /-DELETE$/.test(e.target.name)) draw(); });
    draw();
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start); else start();
})(document);
