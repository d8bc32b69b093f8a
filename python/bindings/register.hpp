#pragma once
#include <pybind11/pybind11.h>

namespace facesel {
namespace bindings {
void register_gaussian_ll(pybind11::module_& m);
void register_tracker(pybind11::module_& m);
void register_best_crop_store(pybind11::module_& m);
void register_yunet_decode(pybind11::module_& m);
void register_region_search(pybind11::module_& m);
void register_cue_samples(pybind11::module_& m);
void register_area_shrink(pybind11::module_& m);
}  // namespace bindings
}  // namespace facesel
