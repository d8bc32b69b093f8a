// Minimum-cost one-to-one assignment (the linear sum assignment problem) of a dense,
// rectangular cost matrix.
#pragma once
#include <cstdint>
#include <vector>

namespace facesel {

/// Solves min sum_i cost[i, col_of_row[i]] over one-to-one assignments.
///
/// cost        (rows, cols) float64, row-major, finite, |cost| <= 1e150
/// returns     (rows) int64: the column given to each row, or -1 when rows > cols and the row is
///             left out (exactly min(rows, cols) rows receive a column).
///
/// Shortest augmenting paths with dual potentials (the Hungarian method in the form of
/// Jonker & Volgenant, 1987): O(min^2 * max) time, O(rows + cols) extra memory.
/// Throws std::invalid_argument for negative sizes or costs outside that range.
std::vector<std::int64_t> linear_assignment(const double* cost, std::int64_t rows, std::int64_t cols);

}  // namespace facesel
