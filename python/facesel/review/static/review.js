// facesel review: the clip player (served from the package; the page allows no inline script).
"use strict";
document.querySelectorAll(".player").forEach(function (player) {
  var frames = player.querySelectorAll(".clip-frame");
  var seek = player.querySelector(".seek");
  var label = player.querySelector(".frame-label");
  var button = player.querySelector(".play");
  var current = 0, timer = null;
  function show(i) {
    frames[current].classList.remove("shown");
    current = (i + frames.length) % frames.length;
    frames[current].classList.add("shown");
    seek.value = current;
    label.textContent = "frame " + frames[current].dataset.frame;
  }
  seek.addEventListener("input", function () { show(parseInt(seek.value, 10)); });
  button.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; button.textContent = "Play"; return; }
    button.textContent = "Pause";
    timer = setInterval(function () { show(current + 1); }, 200);
  });
});
