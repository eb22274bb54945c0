/* Harbor & Pine demo store: image gallery and the colour/size variant picker. No framework.
   Without JavaScript the page still works: the variant <select> and plain image links remain. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Gallery: clicking a thumbnail swaps the main image.
  var main = document.getElementById("gallery-main");
  document.querySelectorAll("[data-gallery-thumb]").forEach(function (thumb) {
    thumb.addEventListener("click", function (event) {
      if (!main) return;
      event.preventDefault();
      main.src = thumb.getAttribute("href");
      document.querySelectorAll("[data-gallery-thumb]").forEach(function (t) { t.classList.remove("selected"); });
      thumb.classList.add("selected");
    });
  });

  // Variant picker: colour and size buttons choose an option of the variant <select>.
  var form = document.querySelector("[data-variant-form]");
  var select = form && form.querySelector("[data-variant-select]");
  if (!select) return;
  var options = Array.prototype.slice.call(select.options);
  var picked = { color: "", size: "" };
  var initial = select.options[select.selectedIndex];
  if (initial) { picked.color = initial.dataset.color; picked.size = initial.dataset.size; }
  var priceBox = document.querySelector("[data-price]");
  var stockNote = form.querySelector("[data-stock-note]");
  var addButton = form.querySelector("[data-add-button]");

  function match(color, size) {
    return options.filter(function (o) {
      return (!color || o.dataset.color === color) && (!size || o.dataset.size === size);
    });
  }

  function render() {
    var exact = options.filter(function (o) { return o.dataset.color === picked.color && o.dataset.size === picked.size; })[0];
    form.querySelectorAll("[data-picker]").forEach(function (group) {
      var kind = group.dataset.picker;
      group.querySelector("[data-picked='" + kind + "']").textContent = picked[kind] || "choose";
      group.querySelectorAll("button").forEach(function (b) {
        var other = kind === "color" ? match(b.dataset.value, picked.size) : match(picked.color, b.dataset.value);
        var available = other.some(function (o) { return Number(o.dataset.stock) > 0; });
        b.classList.toggle("selected", b.dataset.value === picked[kind]);
        b.classList.toggle("unavailable", !available);
        b.setAttribute("aria-pressed", b.dataset.value === picked[kind] ? "true" : "false");
      });
    });
    if (!exact) {
      stockNote.innerHTML = '<span class="out">This combination is not available</span>';
      addButton.disabled = true;
      addButton.textContent = "Unavailable";
      return;
    }
    select.value = exact.value;
    var stock = Number(exact.dataset.stock);
    if (priceBox) {
      priceBox.innerHTML = '<span class="now"></span>' + (exact.dataset.regular ? ' <s></s>' : "");
      priceBox.querySelector(".now").textContent = exact.dataset.price;
      if (exact.dataset.regular) priceBox.querySelector("s").textContent = exact.dataset.regular;
    }
    stockNote.innerHTML = stock > 5 ? '<span class="ok">In stock</span>'
      : stock > 0 ? '<span class="low">Only ' + stock + " left</span>" : '<span class="out">Out of stock</span>';
    addButton.disabled = stock <= 0;
    addButton.textContent = stock > 0 ? "Add to cart" : "Sold out";
  }

  form.querySelectorAll("[data-picker] button").forEach(function (button) {
    button.addEventListener("click", function () {
      var kind = button.closest("[data-picker]").dataset.picker;
      picked[kind] = button.dataset.value;
      // Keep the other choice when that combination exists; otherwise take the first that does.
      var other = kind === "color" ? "size" : "color";
      var candidates = kind === "color" ? match(picked.color, "") : match("", picked.size);
      if (!candidates.some(function (o) { return o.dataset[other] === picked[other]; }) && candidates[0]) {
        picked[other] = candidates[0].dataset[other];
      }
      render();
    });
  });
  select.addEventListener("change", function () {
    var o = select.options[select.selectedIndex];
    picked.color = o.dataset.color; picked.size = o.dataset.size;
    render();
  });
  render();
})();
