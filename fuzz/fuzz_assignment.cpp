// libFuzzer harness: facesel::linear_assignment, sparse_assignment and dense_gated_assignment with
// any sizes, costs (NaN, inf, huge) and edges (out of range, duplicated).
// Invariants: only std::invalid_argument escapes; every result is one-to-one within range;
// linear_assignment assigns min(rows, cols) rows; the sparse and dense solvers agree on the
// number of pairs and on the total cost.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "facesel/linear_assignment.hpp"
#include "facesel/sparse_assignment.hpp"
#include "fuzz_input.hpp"

namespace {

std::int64_t check_one_to_one(const std::vector<std::int64_t>& cols_of, std::int64_t rows, std::int64_t cols) {
  FUZZ_CHECK(static_cast<std::int64_t>(cols_of.size()) == rows);
  std::set<std::int64_t> used;
  for (std::int64_t c : cols_of) {
    FUZZ_CHECK(c >= -1 && c < cols);
    if (c >= 0) FUZZ_CHECK(used.insert(c).second);
  }
  return static_cast<std::int64_t>(used.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  const std::int64_t rows = in.in_range(-1, 7), cols = in.in_range(-1, 7);
  if (in.flag()) {
    const std::size_t cells = static_cast<std::size_t>(std::max<std::int64_t>(rows, 0) * std::max<std::int64_t>(cols, 0));
    std::vector<double> cost(cells);
    for (double& c : cost) c = in.any_double();
    try {
      const auto got = facesel::linear_assignment(cost.data(), rows, cols);
      FUZZ_CHECK(check_one_to_one(got, rows, cols) == std::min(rows, cols));
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  std::vector<facesel::AssignmentEdge> edges(static_cast<std::size_t>(in.in_range(0, 24)));
  for (auto& e : edges) {
    e.row = in.flag() ? in.any_i64() : in.in_range(0, 7);
    e.col = in.flag() ? in.any_i64() : in.in_range(0, 7);
    e.cost = in.flag() ? in.any_double() : static_cast<double>(in.in_range(0, 255)) / 16.0;
  }
  std::vector<std::int64_t> sparse, dense;
  try {
    sparse = facesel::sparse_assignment(rows, cols, edges);
  } catch (const std::invalid_argument&) {
    // The dense reference takes the same arguments; it must refuse them too.
    bool refused = false;
    try {
      facesel::dense_gated_assignment(rows, cols, edges);
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    FUZZ_CHECK(refused);
    return 0;
  }
  dense = facesel::dense_gated_assignment(rows, cols, edges);
  const std::int64_t pairs = check_one_to_one(sparse, rows, cols);
  FUZZ_CHECK(check_one_to_one(dense, rows, cols) == pairs);
  // Both totals over the pairs used; every used pair must be an edge.
  auto total = [&](const std::vector<std::int64_t>& got) {
    double sum = 0.0;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (got[static_cast<std::size_t>(r)] < 0) continue;
      bool found = false;
      for (const auto& e : edges) {
        if (e.row == r && e.col == got[static_cast<std::size_t>(r)]) {
          sum += e.cost;
          found = true;
        }
      }
      FUZZ_CHECK(found);
    }
    return sum;
  };
  const double a = total(sparse), b = total(dense);
  FUZZ_CHECK(std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b))));
  return 0;
}
