// One-to-one assignment restricted to feasible pairs, solved per connected component.
//
// The tracker's association problem is sparse: a track can only take a detection inside its gate,
// and in a crowd each track has a handful of candidates at most. Solving the dense
// (tracks x detections) matrix costs O(min^2 * max) even when almost every pair is infeasible
// (and far more when the infeasible pairs all carry the same tied cost); splitting the bipartite
// graph of feasible pairs into connected components gives the same optimum at the cost of the
// components alone, because no feasible pair joins two components.
#pragma once
#include <cstdint>
#include <vector>

namespace facesel {

/// A feasible (row, column) pair and its cost (finite, >= 0, <= 1e100).
struct AssignmentEdge {
  std::int64_t row;
  std::int64_t col;
  double cost;
};

/// Among one-to-one assignments that use only the given edges, finds one with the most pairs and,
/// among those, the least total cost (the objective of a dense solve in which infeasible pairs
/// cost more than any sum of feasible ones).
///
/// rows, cols  sizes (>= 0)
/// edges       feasible pairs: 0 <= row < rows, 0 <= col < cols, at most one edge per pair
/// returns     (rows) int64: the column given to each row, or -1
///
/// Throws std::invalid_argument for a bad size, index, duplicate pair or cost.
std::vector<std::int64_t> sparse_assignment(std::int64_t rows, std::int64_t cols,
                                            const std::vector<AssignmentEdge>& edges);

/// The reference the sparse solver is held to: the same objective on the dense matrix, with
/// infeasible pairs given a cost above any sum of feasible ones (the tracker's former solver, kept
/// for tests and for the "dense" association setting). Same arguments and result.
std::vector<std::int64_t> dense_gated_assignment(std::int64_t rows, std::int64_t cols,
                                                 const std::vector<AssignmentEdge>& edges);

}  // namespace facesel
