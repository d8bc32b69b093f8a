// facesel._core: only registers the areas; each area lives in its own register_*.cpp.
#include <pybind11/pybind11.h>

#include "register.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "facesel's compiled CPU core (private: use the facesel package)";
  m.attr("__version__") = FACESEL_VERSION;
  facesel::bindings::register_gaussian_ll(m);
  facesel::bindings::register_tracker(m);
  facesel::bindings::register_best_crop_store(m);
  facesel::bindings::register_yunet_decode(m);
  facesel::bindings::register_region_search(m);
  facesel::bindings::register_cue_samples(m);
  facesel::bindings::register_area_shrink(m);
}
