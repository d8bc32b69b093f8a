#include "facesel/linear_assignment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace facesel {

namespace {

// Solves the case n <= m on a matrix read through `at(i, j)` (so that the transposed case needs
// no copy). Rows and columns are 1-based inside; index 0 is the virtual "source" column that
// each new row starts its augmenting path from.
template <typename At>
std::vector<std::int64_t> solve_rows_le_cols(std::int64_t n, std::int64_t m, At at) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> row_pot(n + 1, 0.0), col_pot(m + 1, 0.0);
  std::vector<std::int64_t> row_of_col(m + 1, 0), prev_col(m + 1, 0);
  std::vector<double> slack(m + 1);
  std::vector<char> visited(m + 1);

  for (std::int64_t row = 1; row <= n; ++row) {
    // Grow a tree of tight edges from `row` until it reaches a free column (Dijkstra on reduced
    // costs, which the potentials keep non-negative), then flip the path.
    row_of_col[0] = row;
    std::int64_t col = 0;
    std::fill(slack.begin(), slack.end(), inf);
    std::fill(visited.begin(), visited.end(), 0);
    do {
      visited[col] = 1;
      const std::int64_t r = row_of_col[col];
      double delta = inf;
      std::int64_t next_col = 0;
      for (std::int64_t c = 1; c <= m; ++c) {
        if (visited[c]) continue;
        const double reduced = at(r - 1, c - 1) - row_pot[r] - col_pot[c];
        if (reduced < slack[c]) {
          slack[c] = reduced;
          prev_col[c] = col;
        }
        if (slack[c] < delta) {
          delta = slack[c];
          next_col = c;
        }
      }
      // Shift the potentials so that the cheapest frontier edge becomes tight.
      for (std::int64_t c = 0; c <= m; ++c) {
        if (visited[c]) {
          row_pot[row_of_col[c]] += delta;
          col_pot[c] -= delta;
        } else {
          slack[c] -= delta;
        }
      }
      if (next_col == 0) throw std::logic_error("linear_assignment: no augmenting path (non-finite reduced costs)");
      col = next_col;
    } while (row_of_col[col] != 0);
    // Augment: walk back along the tree, shifting each row one column along the path.
    while (col != 0) {
      const std::int64_t before = prev_col[col];
      row_of_col[col] = row_of_col[before];
      col = before;
    }
  }

  std::vector<std::int64_t> col_of_row(n, -1);
  for (std::int64_t c = 1; c <= m; ++c) {
    if (row_of_col[c] != 0) col_of_row[row_of_col[c] - 1] = c - 1;
  }
  return col_of_row;
}

}  // namespace

std::vector<std::int64_t> linear_assignment(const double* cost, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0) {
    throw std::invalid_argument("linear_assignment: sizes must be >= 0, got rows=" + std::to_string(rows) +
                                ", cols=" + std::to_string(cols));
  }
  // The dual potentials are sums and differences of costs: bounding |cost| keeps every reduced
  // cost finite (an inf there would stall the search).
  constexpr double kMaxAbsCost = 1e150;
  for (std::int64_t k = 0; k < rows * cols; ++k) {
    if (!(std::abs(cost[k]) <= kMaxAbsCost)) {
      throw std::invalid_argument("linear_assignment: cost must be finite with |cost| <= 1e150, found " +
                                  std::to_string(cost[k]) + " at flat index " + std::to_string(k));
    }
  }
  if (rows == 0 || cols == 0) return std::vector<std::int64_t>(rows, -1);
  if (rows <= cols) {
    return solve_rows_le_cols(rows, cols, [&](std::int64_t i, std::int64_t j) { return cost[i * cols + j]; });
  }
  // More rows than columns: solve the transpose and invert the answer.
  const std::vector<std::int64_t> row_of_col =
      solve_rows_le_cols(cols, rows, [&](std::int64_t i, std::int64_t j) { return cost[j * cols + i]; });
  std::vector<std::int64_t> col_of_row(rows, -1);
  for (std::int64_t c = 0; c < cols; ++c) col_of_row[row_of_col[c]] = c;
  return col_of_row;
}

}  // namespace facesel
