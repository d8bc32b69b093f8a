// facesel._core.BestCropStore. Observations cross the boundary as (frame_index, quality, handle)
// tuples; facesel.core wraps them in dataclasses.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "facesel/best_crop_store.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

struct PyStore {
  BestCropStore store;
  std::mutex lock;  // the GIL is released around store work
  PyStore(std::int64_t k, std::int64_t w) : store(k, w) {}
};

using ObsTuple = std::tuple<std::int64_t, double, std::int64_t>;

ObsTuple to_tuple(const Observation& o) { return ObsTuple(o.frame_index, o.quality, o.handle); }

std::vector<ObsTuple> to_tuples(const std::vector<Observation>& v) {
  std::vector<ObsTuple> out;
  out.reserve(v.size());
  for (const Observation& o : v) out.push_back(to_tuple(o));
  return out;
}

// Store calls take microseconds; releasing the GIL costs about as much, so only the calls that
// may touch a whole track (close, discard) release it.
template <typename F>
auto locked(PyStore& self, F&& f) {
  std::lock_guard<std::mutex> guard(self.lock);
  return f(self.store);
}

PyStore& store_of(const py::handle& self) {
  return initialised<PyStore>(self, "BestCropStore", "BestCropStore(top_k, clip_window)");
}

}  // namespace

void register_best_crop_store(py::module_& m) {
  py::class_<PyStore>(m, "BestCropStore", "Private: use facesel.BestCropStore.")
      .def(py::init([](const py::object& top_k, const py::object& clip_window) {
             return std::make_unique<PyStore>(as_int64(top_k, "top_k"), as_int64(clip_window, "clip_window"));
           }),
           py::arg("top_k"), py::arg("clip_window"))
      .def(
          "push",
          [](const py::handle& self_obj, const py::object& track_id, const py::object& frame_index, const py::object& quality,
             const py::object& handle) {
            PyStore& self = store_of(self_obj);
            const std::int64_t t = as_int64(track_id, "track_id");
            const std::int64_t f = as_int64(frame_index, "frame_index");
            const double q = as_finite_double(quality, "quality");
            const std::int64_t h = as_int64(handle, "handle");
            return to_numpy(locked(self, [&](BestCropStore& s) { return s.push(t, f, q, h); }));
          },
          py::arg("track_id"), py::arg("frame_index"), py::arg("quality"), py::arg("handle"))
      .def(
          "close",
          [](const py::handle& self_obj, const py::object& track_id) {
            PyStore& self = store_of(self_obj);
            const std::int64_t t = as_int64(track_id, "track_id");
            ClosedTrack c;
            {
              py::gil_scoped_release release;
              c = locked(self, [&](BestCropStore& s) { return s.close(t); });
            }
            return py::make_tuple(to_tuple(c.best), to_tuples(c.top), to_tuples(c.clip), to_numpy(c.released));
          },
          py::arg("track_id"))
      .def(
          "discard",
          [](const py::handle& self_obj, const py::object& track_id) {
            PyStore& self = store_of(self_obj);
            const std::int64_t t = as_int64(track_id, "track_id");
            std::vector<std::int64_t> released;
            {
              py::gil_scoped_release release;
              released = locked(self, [&](BestCropStore& s) { return s.discard(t); });
            }
            return to_numpy(released);
          },
          py::arg("track_id"))
      .def(
          "best",
          [](const py::handle& self_obj, const py::object& track_id) {
            PyStore& self = store_of(self_obj);
            const std::int64_t t = as_int64(track_id, "track_id");
            return to_tuple(locked(self, [&](BestCropStore& s) { return s.best(t); }));
          },
          py::arg("track_id"))
      .def(
          "admits",
          [](const py::handle& self_obj, const py::object& track_id, const py::object& quality) {
            PyStore& self = store_of(self_obj);
            const std::int64_t t = as_int64(track_id, "track_id");
            const double q = as_finite_double(quality, "quality");
            return locked(self, [&](BestCropStore& s) { return s.admits(t, q); });
          },
          py::arg("track_id"), py::arg("quality"))
      .def("__contains__",
           [](const py::handle& self_obj, const py::object& track_id) {
             PyStore& self = store_of(self_obj);
             const std::int64_t t = as_int64(track_id, "track_id");
             return locked(self, [&](BestCropStore& s) { return s.contains(t); });
           })
      .def("__len__", [](const py::handle& self) { return locked(store_of(self), [](BestCropStore& s) { return s.size(); }); })
      .def_property_readonly("held_handles", [](const py::handle& self) {
        return locked(store_of(self), [](BestCropStore& s) { return s.held_handles(); });
      })
      .def_property_readonly("track_ids", [](const py::handle& self) {
        return to_numpy(locked(store_of(self), [](BestCropStore& s) { return s.track_ids(); }));
      })
      .def_property_readonly("top_k", [](const py::handle& self) { return store_of(self).store.top_k(); })
      .def_property_readonly("clip_window", [](const py::handle& self) { return store_of(self).store.clip_window(); });
}

}  // namespace bindings
}  // namespace facesel
