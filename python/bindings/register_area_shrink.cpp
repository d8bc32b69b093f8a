// area_shrink_exact: an area shrink of a uint8 image by a small odd ratio (3:2, 3:1, ...) in
// integers, the same pixels as OpenCV's INTER_AREA there (facesel.detect.schedule.area_shrink).
// Every argument is checked here and errors name it; the loops run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "facesel/area_shrink.hpp"
#include "facesel/sampled_thumbnail.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

constexpr std::int64_t kMaxSide = 1 << 15;  // as the region search's: far inside int32 sums

/// `image_obj` checked as area_shrink_exact and area_shrink_float take it (errors name `image`).
PackedImage packed_image(const py::object& image_obj) {
  if (!py::isinstance<py::array>(image_obj)) {
    throw py::type_error("image must be a numpy.ndarray of uint8, got " + py::str(py::type::of(image_obj)).cast<std::string>());
  }
  refuse_masked(image_obj, "image");
  py::array image = py::reinterpret_borrow<py::array>(image_obj);
  if (!has_dtype<std::uint8_t>(image)) throw py::type_error("image must be uint8, got dtype " + dtype_str(image));
  if (!(image.ndim() == 2 || (image.ndim() == 3 && image.shape(2) >= 1 && image.shape(2) <= 4))) {
    throw py::value_error("image must have shape (H, W) or (H, W, C) with C in 1..4, got " + shape_str(image));
  }
  const std::int64_t rows = image.shape(0), cols = image.shape(1), channels = image.ndim() == 3 ? image.shape(2) : 1;
  if (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide) {
    throw py::value_error("image must have sides in [1, " + std::to_string(kMaxSide) + "], got shape " + shape_str(image));
  }
  // pixels of `channels` adjacent bytes, rows at any (non-negative) stride: a crop of a frame is fine
  const bool packed = (image.ndim() == 2 || image.strides(2) == 1) && image.strides(1) == channels &&
                      image.strides(0) >= cols * channels;
  if (!packed) {
    std::string strides = "(";
    for (py::ssize_t i = 0; i < image.ndim(); ++i) strides += (i ? ", " : "") + std::to_string(image.strides(i));
    throw py::value_error("image's pixels must be " + std::to_string(channels) +
                          " adjacent bytes and its rows apart by at least a row (numpy.ascontiguousarray it), got strides " +
                          strides + ")");
  }
  return PackedImage{static_cast<const std::uint8_t*>(image.data()), rows, cols, image.strides(0), channels};
}

/// A new (height, width[, C]) uint8 array shaped as `image_obj`'s channels.
py::array_t<std::uint8_t> output_like(const py::object& image_obj, std::int64_t height, std::int64_t width) {
  const py::array image = py::reinterpret_borrow<py::array>(image_obj);
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(height), static_cast<py::ssize_t>(width)};
  if (image.ndim() == 3) shape.push_back(image.shape(2));
  return py::array_t<std::uint8_t>(shape);
}

py::array area_shrink_exact_py(const py::object& image_obj, const py::object& width_obj, const py::object& height_obj) {
  const PackedImage src = packed_image(image_obj);
  const std::int64_t rows = src.rows, cols = src.cols;
  const std::int64_t width = as_int64(width_obj, "width"), height = as_int64(height_obj, "height");
  if (!area_ratio_exact(cols, width)) {
    throw py::value_error("width " + repr_str(width_obj) + " from " + std::to_string(cols) +
                          " columns is not an exact ratio (p:q with p odd, at most " + std::to_string(kMaxAreaRatio) +
                          "; area_shrink_exact_ratio says which are)");
  }
  if (!area_ratio_exact(rows, height)) {
    throw py::value_error("height " + repr_str(height_obj) + " from " + std::to_string(rows) +
                          " rows is not an exact ratio (p:q with p odd, at most " + std::to_string(kMaxAreaRatio) +
                          "; area_shrink_exact_ratio says which are)");
  }
  py::array_t<std::uint8_t> out = output_like(image_obj, height, width);
  std::uint8_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    area_shrink_exact(src, height, width, dst);
  }
  return out;
}

py::array area_shrink_float_py(const py::object& image_obj, const py::object& width_obj, const py::object& height_obj) {
  const PackedImage src = packed_image(image_obj);
  const std::int64_t width = as_int64(width_obj, "width"), height = as_int64(height_obj, "height");
  if (width < 1 || width > src.cols) {
    throw py::value_error("width must be in [1, " + std::to_string(src.cols) + "] (a shrink of the image's " +
                          std::to_string(src.cols) + " columns), got " + repr_str(width_obj));
  }
  if (height < 1 || height > src.rows) {
    throw py::value_error("height must be in [1, " + std::to_string(src.rows) + "] (a shrink of the image's " +
                          std::to_string(src.rows) + " rows), got " + repr_str(height_obj));
  }
  py::array_t<std::uint8_t> out = output_like(image_obj, height, width);
  std::uint8_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    area_shrink_float(src, height, width, dst);
  }
  return out;
}

py::array sampled_block_grey_py(const py::object& image_obj, const py::object& step_obj, const py::object& block_x_obj,
                                const py::object& block_y_obj) {
  const PackedImage src = packed_image(image_obj);
  if (src.channels != 3) {
    throw py::value_error("image must be (H, W, 3) BGR, got " + shape_str(py::reinterpret_borrow<py::array>(image_obj)));
  }
  const std::int64_t step = as_int64(step_obj, "step"), block_x = as_int64(block_x_obj, "block_x"),
                     block_y = as_int64(block_y_obj, "block_y");
  if (step < 1 || step > kMaxSide) {
    throw py::value_error("step must be in [1, " + std::to_string(kMaxSide) + "], got " + repr_str(step_obj));
  }
  const std::int64_t sample_rows = (src.rows + step - 1) / step, sample_cols = (src.cols + step - 1) / step;
  if (block_x < 1 || block_x > sample_cols || sample_cols % block_x != 0) {
    throw py::value_error("block_x must divide the sample's " + std::to_string(sample_cols) + " columns, got " +
                          repr_str(block_x_obj));
  }
  if (block_y < 1 || block_y > sample_rows || sample_rows % block_y != 0) {
    throw py::value_error("block_y must divide the sample's " + std::to_string(sample_rows) + " rows, got " +
                          repr_str(block_y_obj));
  }
  if (block_x * block_y > (1 << 20)) {  // the integer sums stay far inside int32
    throw py::value_error("block_x * block_y must be at most 1048576, got " + std::to_string(block_x * block_y));
  }
  if (block_x == 2 && block_y == 2) {  // OpenCV's 2 x 2 path rounds half up: not the pixels this function makes
    throw py::value_error("block_x = block_y = 2 is OpenCV's SIMD 2 x 2 path (rounding half up), not this one's");
  }
  const std::int64_t out_rows = sample_rows / block_y, out_cols = sample_cols / block_x;
  py::array_t<std::uint8_t> out({static_cast<py::ssize_t>(out_rows), static_cast<py::ssize_t>(out_cols)});
  std::uint8_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    sampled_block_grey(src, step, block_x, block_y, out_rows, out_cols, dst);
  }
  return out;
}

bool area_shrink_exact_ratio_py(const py::object& src_obj, const py::object& dst_obj) {
  return area_ratio_exact(as_int64(src_obj, "src"), as_int64(dst_obj, "dst"));
}

}  // namespace

void register_area_shrink(py::module_& m) {
  m.def("area_shrink_exact", &area_shrink_exact_py, py::arg("image"), py::arg("width"), py::arg("height"),
        "(H, W[, C]) uint8 (pixels of C adjacent bytes, any row stride) area-shrunk to (height, width[, C]) uint8: "
        "the same pixels as cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), in integers. Each axis "
        "must be an exact ratio (area_shrink_exact_ratio); ValueError otherwise. The GIL is released.");
  m.def("area_shrink_float", &area_shrink_float_py, py::arg("image"), py::arg("width"), py::arg("height"),
        "(H, W[, C]) uint8 (pixels of C adjacent bytes, any row stride) area-shrunk to (height, width[, C]) uint8 "
        "(1 <= width <= W, 1 <= height <= H): the same pixels as cv2.convertScaleAbs(cv2.resize(image.astype(numpy.float32), "
        "(width, height), interpolation=cv2.INTER_AREA)) wherever OpenCV takes its general area path (not a whole factor "
        "on both axes), without the float32 copy. ValueError naming the argument otherwise. The GIL is released.");
  m.def("area_shrink_float_path", [] { return std::string(area_shrink_float_path()); },
        "Which code area_shrink_float runs on this CPU: 'avx2' (eight source rows a register, chosen at run time "
        "from the CPU), 'sse2' (four) or 'scalar'; every one gives the same pixels.");
  m.def("sampled_block_grey", &sampled_block_grey_py, py::arg("image"), py::arg("step"), py::arg("block_x"),
        py::arg("block_y"),
        "(H, W, 3) uint8 BGR (pixels of 3 adjacent bytes, any row stride) -> (S_r / block_y, S_c / block_x) uint8 grey, "
        "S = the sample image[::step, ::step]: the same bytes as cv2.cvtColor(cv2.resize(sample, (S_c / block_x, "
        "S_r / block_y), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY) without the copies (issue 27, the "
        "scene-change thumbnail). The blocks must divide the sample, and not be 2 x 2 (OpenCV's half-up path); "
        "ValueError naming the argument otherwise. The GIL is released.");
  m.def("area_shrink_exact_ratio", &area_shrink_exact_ratio_py, py::arg("src"), py::arg("dst"),
        "Whether src -> dst pixels along one axis is a shrink area_shrink_exact takes: the ratio p:q in lowest terms "
        "has p odd and at most 9 (3:2, 3:1, 5:3, ...), so that its integer average rounds as OpenCV's float32 one.");
}

}  // namespace bindings
}  // namespace facesel
