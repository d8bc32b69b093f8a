// nms_boxes against cv::dnn::NMSBoxes' documented rules, and yunet_decode on a hand-made level.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "facesel/yunet_decode.hpp"

namespace {

void test_nms_rules() {
  // scores above the threshold only (strict), highest first, equal scores in index order
  const std::vector<double> apart = {0, 0, 10, 10, 20, 0, 10, 10, 40, 0, 10, 10, 60, 0, 10, 10};
  const auto kept = facesel::nms_boxes(apart, {0.5f, 0.7f, 0.7f, 0.9f}, 0.5f, 0.45f);
  CHECK((kept == std::vector<int>{3, 1, 2}), "kept " << kept.size());
  // identical boxes overlap exactly 1: suppressed below 1, all kept at nms_iou = 1
  const std::vector<double> same = {5, 5, 10, 10, 5, 5, 10, 10, 5, 5, 10, 10};
  CHECK((facesel::nms_boxes(same, {0.8f, 0.9f, 0.9f}, 0.f, 0.45f) == std::vector<int>{1}), "identical boxes");
  CHECK(facesel::nms_boxes(same, {0.8f, 0.9f, 0.9f}, 0.f, 1.f).size() == 3, "nms_iou = 1 keeps identical boxes");
  // IoU of two 10x10 boxes shifted by 5: 50 / 150 = 1/3, kept at 0.45, suppressed at 0.3
  const std::vector<double> half = {0, 0, 10, 10, 5, 0, 10, 10};
  CHECK(facesel::nms_boxes(half, {0.9f, 0.8f}, 0.f, 0.45f).size() == 2, "IoU 1/3 <= 0.45");
  CHECK(facesel::nms_boxes(half, {0.9f, 0.8f}, 0.f, 0.3f).size() == 1, "IoU 1/3 > 0.3");
  CHECK(facesel::nms_boxes({}, {}, 0.f, 0.45f).empty(), "no boxes");
  CHECK_THROWS(facesel::nms_boxes({0, 0, 1}, {0.5f}, 0.f, 0.45f), std::invalid_argument);
}

void test_decode_one_level() {
  // a 2x2 map at stride 8: one cell above 0.6, its box 8 * exp(0) wide centred at (1 + 0.5) * 8
  const std::vector<float> score = {0.1f, 0.9f, 0.2f, 0.6f};  // 0.6 is not above 0.6
  std::vector<float> box(16, 0.f), marks(40, 0.25f);
  box[0 * 4 + 1] = 0.5f;  // dx of cell 1
  box[1 * 4 + 1] = 0.5f;  // dy of cell 1
  const facesel::YunetFaces faces =
      facesel::yunet_decode({facesel::YunetLevel{score.data(), box.data(), marks.data(), 2, 2, 8}}, 0.6f, 0.45f);
  CHECK(faces.scores.size() == 1 && faces.scores[0] == 0.9f, "one face");
  CHECK(faces.boxes.size() == 4 && faces.boxes[0] == 8.f && faces.boxes[1] == 0.f && faces.boxes[2] == 16.f &&
            faces.boxes[3] == 8.f,
        "box " << faces.boxes[0] << " " << faces.boxes[1] << " " << faces.boxes[2] << " " << faces.boxes[3]);
  CHECK(faces.marks.size() == 10 && faces.marks[0] == 10.f && faces.marks[1] == 2.f, "landmark " << faces.marks[0]);
  box[2 * 4 + 1] = NAN;
  CHECK_THROWS(facesel::yunet_decode({facesel::YunetLevel{score.data(), box.data(), marks.data(), 2, 2, 8}}, 0.6f, 0.45f),
               std::invalid_argument);
}

}  // namespace

int main() {
  test_nms_rules();
  test_decode_one_level();
  return facesel_test::finish("test_yunet_decode");
}
