#include "facesel/sparse_assignment.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "facesel/linear_assignment.hpp"

namespace facesel {

namespace {

// Above this a sum of costs could lose the big-M separation in double precision.
constexpr double kMaxEdgeCost = 1e100;

void check_edges(std::int64_t rows, std::int64_t cols, const std::vector<AssignmentEdge>& edges) {
  if (rows < 0 || cols < 0) {
    throw std::invalid_argument("sparse_assignment: sizes must be >= 0, got rows=" + std::to_string(rows) +
                                ", cols=" + std::to_string(cols));
  }
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const AssignmentEdge& e = edges[k];
    if (e.row < 0 || e.row >= rows || e.col < 0 || e.col >= cols) {
      throw std::invalid_argument("sparse_assignment: edge " + std::to_string(k) + " (" + std::to_string(e.row) +
                                  ", " + std::to_string(e.col) + ") is outside the " + std::to_string(rows) + " x " +
                                  std::to_string(cols) + " problem");
    }
    if (!(e.cost >= 0.0 && e.cost <= kMaxEdgeCost)) {
      throw std::invalid_argument("sparse_assignment: edge " + std::to_string(k) + " cost must be in [0, 1e100], got " +
                                  std::to_string(e.cost));
    }
  }
}

// Solves one group of edges on a dense matrix of its own rows and columns. `local_row` and
// `local_col` map global indices to 0-based local ones for the rows/cols listed in `row_ids`,
// `col_ids`. Infeasible pairs cost more than any sum of min(r, c) feasible costs, so that the
// solver first maximises the number of feasible pairs, then minimises their cost.
void solve_dense(const std::vector<AssignmentEdge>& edges, const std::vector<std::int64_t>& edge_ids,
                 const std::vector<std::int64_t>& row_ids, const std::vector<std::int64_t>& col_ids,
                 const std::vector<std::int64_t>& local_row, const std::vector<std::int64_t>& local_col,
                 std::vector<std::int64_t>& col_of_row) {
  const std::int64_t r = static_cast<std::int64_t>(row_ids.size()), c = static_cast<std::int64_t>(col_ids.size());
  double max_feasible = 0.0;
  for (std::int64_t k : edge_ids) max_feasible = std::max(max_feasible, edges[k].cost);
  const double infeasible = (static_cast<double>(std::min(r, c)) + 1.0) * (max_feasible + 1.0);
  std::vector<double> cost(static_cast<std::size_t>(r * c), infeasible);
  std::vector<char> feasible(cost.size(), 0);
  for (std::int64_t k : edge_ids) {
    const std::size_t at = static_cast<std::size_t>(local_row[edges[k].row] * c + local_col[edges[k].col]);
    if (feasible[at]) {
      throw std::invalid_argument("sparse_assignment: pair (" + std::to_string(edges[k].row) + ", " +
                                  std::to_string(edges[k].col) + ") is given twice");
    }
    feasible[at] = 1;
    cost[at] = edges[k].cost;
  }
  const std::vector<std::int64_t> assigned = linear_assignment(cost.data(), r, c);
  for (std::int64_t i = 0; i < r; ++i) {
    if (assigned[i] >= 0 && feasible[static_cast<std::size_t>(i * c + assigned[i])]) {
      col_of_row[row_ids[i]] = col_ids[assigned[i]];
    }
  }
}

// Union-find over rows (0..rows-1) and columns (rows..rows+cols-1), with path halving.
struct Components {
  std::vector<std::int64_t> parent;
  explicit Components(std::int64_t size) : parent(static_cast<std::size_t>(size)) {
    std::iota(parent.begin(), parent.end(), std::int64_t{0});
  }
  std::int64_t find(std::int64_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void join(std::int64_t a, std::int64_t b) { parent[find(a)] = find(b); }
};

}  // namespace

std::vector<std::int64_t> sparse_assignment(std::int64_t rows, std::int64_t cols,
                                            const std::vector<AssignmentEdge>& edges) {
  check_edges(rows, cols, edges);
  std::vector<std::int64_t> col_of_row(static_cast<std::size_t>(rows), -1);
  if (edges.empty()) return col_of_row;
  Components comp(rows + cols);
  for (const AssignmentEdge& e : edges) comp.join(e.row, rows + e.col);

  // Group the edges by component (a counting sort on the component root).
  std::vector<std::int64_t> root_of_edge(edges.size());
  std::vector<std::int64_t> count(static_cast<std::size_t>(rows + cols) + 1, 0);
  for (std::size_t k = 0; k < edges.size(); ++k) {
    root_of_edge[k] = comp.find(edges[k].row);
    ++count[root_of_edge[k] + 1];
  }
  std::partial_sum(count.begin(), count.end(), count.begin());
  std::vector<std::int64_t> order(edges.size());
  {
    std::vector<std::int64_t> next(count.begin(), count.end() - 1);
    for (std::size_t k = 0; k < edges.size(); ++k) order[next[root_of_edge[k]]++] = static_cast<std::int64_t>(k);
  }

  std::vector<std::int64_t> local_row(static_cast<std::size_t>(rows), -1), local_col(static_cast<std::size_t>(cols), -1);
  std::vector<std::int64_t> edge_ids, row_ids, col_ids;
  for (std::int64_t root = 0; root < rows + cols; ++root) {
    const std::int64_t begin = count[root], end = count[root + 1];
    if (begin == end) continue;
    if (end - begin == 1) {  // the common case in a crowd: one track, one detection
      const AssignmentEdge& e = edges[order[begin]];
      col_of_row[e.row] = e.col;
      continue;
    }
    edge_ids.assign(order.begin() + begin, order.begin() + end);
    row_ids.clear();
    col_ids.clear();
    for (std::int64_t k : edge_ids) {
      if (local_row[edges[k].row] < 0) {
        local_row[edges[k].row] = static_cast<std::int64_t>(row_ids.size());
        row_ids.push_back(edges[k].row);
      }
      if (local_col[edges[k].col] < 0) {
        local_col[edges[k].col] = static_cast<std::int64_t>(col_ids.size());
        col_ids.push_back(edges[k].col);
      }
    }
    solve_dense(edges, edge_ids, row_ids, col_ids, local_row, local_col, col_of_row);
  }
  return col_of_row;
}

std::vector<std::int64_t> dense_gated_assignment(std::int64_t rows, std::int64_t cols,
                                                 const std::vector<AssignmentEdge>& edges) {
  check_edges(rows, cols, edges);
  std::vector<std::int64_t> col_of_row(static_cast<std::size_t>(rows), -1);
  if (rows == 0 || cols == 0) return col_of_row;
  std::vector<std::int64_t> edge_ids(edges.size()), row_ids(static_cast<std::size_t>(rows)),
      col_ids(static_cast<std::size_t>(cols));
  std::iota(edge_ids.begin(), edge_ids.end(), std::int64_t{0});
  std::iota(row_ids.begin(), row_ids.end(), std::int64_t{0});
  std::iota(col_ids.begin(), col_ids.end(), std::int64_t{0});
  solve_dense(edges, edge_ids, row_ids, col_ids, row_ids, col_ids, col_of_row);
  return col_of_row;
}

}  // namespace facesel
