// facesel._core.Tracker and the private solvers _linear_assignment, _sparse_assignment and
// _dense_gated_assignment (exposed so that tests can hold them to scipy and to each other).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "facesel/linear_assignment.hpp"
#include "facesel/sparse_assignment.hpp"
#include "facesel/tracker.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

// The C++ Tracker is not thread-safe and the GIL is released while it works, so each Python
// object carries its own lock.
struct PyTracker {
  Tracker tracker;
  std::mutex lock;
  explicit PyTracker(const TrackerConfig& c) : tracker(c) {}
};

PyTracker& tracker_of(const py::handle& self) { return initialised<PyTracker>(self, "Tracker", "Tracker(...)"); }

using UpdateTuple = std::tuple<py::array_t<std::int64_t>, py::array_t<bool>, py::array_t<std::int64_t>,
                               py::array_t<std::int64_t>, py::array_t<std::int64_t>>;

UpdateTuple to_python(const TrackerUpdate& u) {
  py::array_t<bool> confirmed(static_cast<py::ssize_t>(u.confirmed.size()));
  bool* c = confirmed.mutable_data();
  for (std::size_t i = 0; i < u.confirmed.size(); ++i) c[i] = u.confirmed[i] != 0;
  return UpdateTuple(to_numpy(u.track_ids), confirmed, to_numpy(u.closed), to_numpy(u.dropped), to_numpy(u.evicted));
}

// A str setting, as UTF-8; TypeError or ValueError naming it (and the accepted values) otherwise.
std::string as_setting_str(const py::object& value, const char* name, const char* accepted) {
  if (!py::isinstance<py::str>(value)) {
    throw py::type_error(std::string(name) + " must be a str (" + accepted + "), got " + repr_str(value));
  }
  try {
    return value.cast<std::string>();
  } catch (const std::exception&) {  // cast_error or a Python error: a lone surrogate UTF-8 cannot encode
    throw py::value_error(std::string(name) + " must be " + accepted + ", got " + repr_str(value));
  }
}

std::unique_ptr<PyTracker> make_tracker(const py::object& metric, const py::object& max_distance,
                                        const py::object& min_iou, const py::object& min_hits,
                                        const py::object& max_age, const py::object& predict_motion,
                                        const py::object& max_tracks, const py::object& association,
                                        const py::object& start_score, const py::object& second_pass) {
  const std::string metric_name = as_setting_str(metric, "metric", "'euclidean' or 'iou'");
  if (!PyBool_Check(predict_motion.ptr())) {
    throw py::type_error("predict_motion must be a bool, got " + repr_str(predict_motion));
  }
  if (!PyBool_Check(second_pass.ptr())) {
    throw py::type_error("second_pass must be a bool, got " + repr_str(second_pass));
  }
  TrackerConfig c;
  c.metric = parse_track_metric(metric_name);
  c.association = parse_association(as_setting_str(association, "association", "'components' or 'dense'"));
  c.max_tracks = as_int64(max_tracks, "max_tracks");
  c.max_distance = as_finite_double(max_distance, "max_distance");
  c.min_iou = as_finite_double(min_iou, "min_iou");
  c.min_hits = as_int64(min_hits, "min_hits");
  c.max_age = as_int64(max_age, "max_age");
  c.predict_motion = predict_motion.cast<bool>();
  c.start_score = as_finite_double(start_score, "start_score");
  c.second_pass = second_pass.cast<bool>();
  return std::make_unique<PyTracker>(c);  // the constructor validates the ranges
}

UpdateTuple update_py(const py::handle& self_obj, const py::object& boxes_obj, const py::object& scores_obj) {
  PyTracker& self = tracker_of(self_obj);
  auto boxes = as_array<float>(boxes_obj, "boxes", 2, "float32");
  if (boxes.shape(1) != 4) {
    throw py::value_error("boxes must have shape (N, 4) (x1, y1, x2, y2), got " + shape_str(boxes));
  }
  // scores: None (every box may start a track) or (N,) float32 finite, one per box.
  CArray<float> scores;
  const float* score_data = nullptr;
  if (!scores_obj.is_none()) {
    scores = as_array<float>(scores_obj, "scores", 1, "float32");
    if (scores.shape(0) != boxes.shape(0)) {
      throw py::value_error("scores must have one entry per box (the " + std::to_string(boxes.shape(0)) + " rows of boxes), got shape " +
                            shape_str(scores));
    }
    require_finite(scores, "scores");
    score_data = scores.data();
  }
  TrackerUpdate u;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> guard(self.lock);
    u = self.tracker.update(boxes.data(), boxes.shape(0), score_data);
  }
  return to_python(u);
}

// Test entry of the gated solvers: cost (R, C) float64, +inf where a pair is infeasible.
template <typename Solver>
py::array_t<std::int64_t> gated_assignment_py(const py::object& cost_obj, Solver solver) {
  auto cost = as_array<double>(cost_obj, "cost", 2, "float64");
  std::vector<AssignmentEdge> edges;
  const double* p = cost.data();
  const py::ssize_t rows = cost.shape(0), cols = cost.shape(1);
  for (py::ssize_t i = 0; i < rows; ++i) {
    for (py::ssize_t j = 0; j < cols; ++j) {
      const double c = p[i * cols + j];
      if (c == std::numeric_limits<double>::infinity()) continue;
      if (!(c >= 0.0 && c <= 1e100)) {
        throw py::value_error("cost must be in [0, 1e100] or +inf (infeasible), found " + std::to_string(c) +
                              " at (" + std::to_string(i) + ", " + std::to_string(j) + ")");
      }
      edges.push_back({i, j, c});
    }
  }
  std::vector<std::int64_t> cols_of_rows;
  {
    py::gil_scoped_release release;
    cols_of_rows = solver(rows, cols, edges);
  }
  return to_numpy(cols_of_rows);
}

py::array_t<std::int64_t> linear_assignment_py(const py::object& cost_obj) {
  auto cost = as_array<double>(cost_obj, "cost", 2, "float64");
  require_finite(cost, "cost");
  std::vector<std::int64_t> cols;
  {
    py::gil_scoped_release release;
    cols = linear_assignment(cost.data(), cost.shape(0), cost.shape(1));
  }
  return to_numpy(cols);
}

}  // namespace

void register_tracker(py::module_& m) {
  py::class_<PyTracker>(m, "Tracker", "Private: use facesel.Tracker.")
      .def(py::init(&make_tracker), py::arg("metric"), py::arg("max_distance"), py::arg("min_iou"),
           py::arg("min_hits"), py::arg("max_age"), py::arg("predict_motion"), py::arg("max_tracks"),
           py::arg("association"), py::arg("start_score"), py::arg("second_pass"))
      .def("update", &update_py, py::arg("boxes"), py::arg("scores") = py::none(),
           "boxes (N, 4) float32 xyxy, scores (N,) float32 or None -> (track_ids (N,) int64 (-1: a low box no "
           "track took), confirmed (N,) bool, closed, dropped, evicted)")
      .def("flush",
           [](const py::handle& self_obj) {
             PyTracker& self = tracker_of(self_obj);
             TrackerUpdate u;
             {
               py::gil_scoped_release release;
               std::lock_guard<std::mutex> guard(self.lock);
               u = self.tracker.flush();
             }
             return to_python(u);
           })
      .def_property_readonly("open_track_ids",
                             [](const py::handle& self_obj) {
             PyTracker& self = tracker_of(self_obj);
                               std::lock_guard<std::mutex> guard(self.lock);
                               return to_numpy(self.tracker.open_track_ids());
                             })
      .def("__len__", [](const py::handle& self_obj) {
             PyTracker& self = tracker_of(self_obj);
        std::lock_guard<std::mutex> guard(self.lock);
        return self.tracker.size();
      });
  m.def("_linear_assignment", &linear_assignment_py, py::arg("cost"),
        "cost (R, C) float64 -> (R,) int64 column per row (-1: unassigned); minimum total cost.");
  m.def(
      "_sparse_assignment", [](const py::object& cost) { return gated_assignment_py(cost, sparse_assignment); },
      py::arg("cost"),
      "cost (R, C) float64, +inf = infeasible -> (R,) int64; most pairs, then least cost; per component.");
  m.def(
      "_dense_gated_assignment",
      [](const py::object& cost) { return gated_assignment_py(cost, dense_gated_assignment); }, py::arg("cost"),
      "The same objective solved on the dense matrix (the reference for _sparse_assignment).");
}

}  // namespace bindings
}  // namespace facesel
