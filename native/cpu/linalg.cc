// CPU factorization kernels: inv, det, solve (LU with partial pivoting) and
// cholesky (Cholesky-Banachiewicz), computed in float64 for float32 inputs too
// and rounded to the output dtype at the end, like the js kernels in
// lib/backends/js/linalg.ts. The loops and their operation order are those of
// the js kernels, so results match them bit for bit (this TU is built without
// FMA contraction). Matrices of a batch are independent: the batch is split over
// the thread pool, and an error names the first bad matrix in batch order, as the
// sequential js loop does.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "../engine/thread_pool.h"
#include "cpu_kernels.h"

namespace keras::cpu {
namespace {

using engine::DType;
using engine::Shape;
using kernels::Attrs;
using kernels::KernelContext;
using kernels::OpError;
using kernels::TensorView;

// Roughly the flops worth one work item of parallel_for.
constexpr int64_t kFlopsPerItem = 1 << 16;

// Reads matrix `index` of a (possibly strided) stack [..., rows, cols] as float64.
class MatrixReader {
 public:
  explicit MatrixReader(const TensorView& t) : t_(t) {
    const int r = t.rank();
    rows_ = t.shape[size_t(r - 2)];
    cols_ = t.shape[size_t(r - 1)];
    row_stride_ = t.strides[size_t(r - 2)];
    col_stride_ = t.strides[size_t(r - 1)];
  }

  void load(int64_t index, double* into) const {
    int64_t off = 0;
    for (int d = t_.rank() - 3; d >= 0; --d) {
      const int64_t size = t_.shape[size_t(d)];
      off += (index % size) * t_.strides[size_t(d)];
      index /= size;
    }
    if (t_.dtype == DType::Float32) copy(t_.as<float>() + off, into);
    else copy(t_.as<double>() + off, into);
  }

 private:
  template <class T>
  void copy(const T* src, double* into) const {
    for (int64_t i = 0; i < rows_; ++i) {
      for (int64_t j = 0; j < cols_; ++j) into[i * cols_ + j] = double(src[i * row_stride_ + j * col_stride_]);
    }
  }

  const TensorView& t_;
  int64_t rows_, cols_, row_stride_, col_stride_;
};

// Writes n float64 values to element `offset` of a contiguous float32/float64 output.
void store(const TensorView& out, int64_t offset, const double* values, int64_t n) {
  if (out.dtype == DType::Float32) {
    float* dst = out.as<float>() + offset;
    for (int64_t i = 0; i < n; ++i) dst[i] = float(values[i]);
  } else {
    std::copy(values, values + n, out.as<double>() + offset);
  }
}

// In-place LU with partial pivoting of the n x n row-major matrix `lu`: L below
// the diagonal (unit diagonal implied), U on and above. Returns the permutation's
// sign, or 0 when a pivot is exactly zero or NaN (singular).
int lu_factor(double* lu, int64_t n, int64_t* perm) {
  int sign = 1;
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  for (int64_t k = 0; k < n; ++k) {
    int64_t p = k;
    double best = std::fabs(lu[k * n + k]);
    for (int64_t i = k + 1; i < n; ++i) {
      const double v = std::fabs(lu[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best == 0 || best != best) return 0;
    if (p != k) {
      std::swap_ranges(lu + k * n, lu + k * n + n, lu + p * n);
      std::swap(perm[k], perm[p]);
      sign = -sign;
    }
    const double pivot = lu[k * n + k];
    for (int64_t i = k + 1; i < n; ++i) {
      const double f = (lu[i * n + k] /= pivot);
      if (f == 0) continue;
      double* row = lu + i * n;
      const double* top = lu + k * n;
      for (int64_t j = k + 1; j < n; ++j) row[j] -= f * top[j];
    }
  }
  return sign;
}

// Solves (LU) X = P B for X [n, m] (row-major, into x); B is row-major [n, m].
void lu_solve(const double* lu, int64_t n, const int64_t* perm, const double* b, int64_t m, double* x) {
  for (int64_t i = 0; i < n; ++i) std::copy(b + perm[i] * m, b + perm[i] * m + m, x + i * m);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < i; ++k) {
      const double f = lu[i * n + k];
      if (f != 0) for (int64_t j = 0; j < m; ++j) x[i * m + j] -= f * x[k * m + j];
    }
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    for (int64_t k = i + 1; k < n; ++k) {
      const double f = lu[i * n + k];
      if (f != 0) for (int64_t j = 0; j < m; ++j) x[i * m + j] -= f * x[k * m + j];
    }
    const double d = lu[i * n + i];
    for (int64_t j = 0; j < m; ++j) x[i * m + j] /= d;
  }
}

// A number as JavaScript's String(number) prints it (shortest round-trip digits,
// exponent form outside [1e-7, 1e21)), so messages match the js kernel's.
std::string js_number(double v) {
  if (v != v) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return "0";
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  const int exponent = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] != '.') digits += s[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int k = int(digits.size());
  const int point = exponent + 1;  // digits before the decimal point
  if (k <= point && point <= 21) return sign + digits + std::string(size_t(point - k), '0');
  if (0 < point && point <= 21) return sign + digits.substr(0, size_t(point)) + "." + digits.substr(size_t(point));
  if (-6 < point && point <= 0) return sign + "0." + std::string(size_t(-point), '0') + digits;
  const int shown = point - 1;
  return sign + digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + (shown >= 0 ? "+" : "-") +
         std::to_string(std::abs(shown));
}

std::string where(const Shape& shape, int64_t index) {
  return shape.size() > 2 ? " (matrix " + std::to_string(index) + " of the batch)" : "";
}

OpError singular(const char* op, const Shape& shape, int64_t index) {
  return OpError("ValueError", std::string(op) + ": the matrix is singular" + where(shape, index) +
                                   ", input shape " + engine::format_shape(shape));
}

// The first failing matrix of a batch (lowest index) and what to report about it.
struct FirstFailure {
  std::mutex mutex;
  int64_t index = std::numeric_limits<int64_t>::max();
  int64_t pivot = 0;
  double value = 0;

  void record(int64_t at, int64_t p = 0, double v = 0) {
    std::lock_guard<std::mutex> lock(mutex);
    if (at < index) {
      index = at;
      pivot = p;
      value = v;
    }
  }
  // Matrices after a known failure need not run.
  bool after(int64_t at) {
    std::lock_guard<std::mutex> lock(mutex);
    return at > index;
  }
  bool failed() const { return index != std::numeric_limits<int64_t>::max(); }
};

// Runs fn(begin, end) over `count` matrices of `flops` each, in parallel when worthwhile.
template <class Fn>
void over_batch(const KernelContext& ctx, int64_t count, int64_t flops, const Fn& fn) {
  if (count <= 0) return;
  const int64_t grain = std::max<int64_t>(1, kFlopsPerItem / std::max<int64_t>(1, flops));
  if (count <= grain) return fn(int64_t(0), count);
  engine::thread_pool().parallel_for(count, grain, fn, ctx.max_threads);
}

int64_t batch_count(const Shape& shape) {
  int64_t c = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d) c *= shape[d];
  return c;
}

void inv_cpu(const KernelContext& ctx, const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs,
             const Attrs&) {
  const TensorView& x = inputs[0];
  const int64_t n = x.shape.back();
  const int64_t count = n ? batch_count(x.shape) : 0;
  const MatrixReader reader(x);
  FirstFailure failure;
  std::vector<double> eye(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) eye[size_t(i * n + i)] = 1;
  over_batch(ctx, count, 2 * n * n * n, [&](int64_t begin, int64_t end) {
    std::vector<double> lu(size_t(n * n)), sol(size_t(n * n));
    std::vector<int64_t> perm(static_cast<size_t>(n));
    for (int64_t m = begin; m < end; ++m) {
      if (failure.after(m)) return;
      reader.load(m, lu.data());
      if (lu_factor(lu.data(), n, perm.data()) == 0) return failure.record(m);
      lu_solve(lu.data(), n, perm.data(), eye.data(), n, sol.data());
      store(outputs[0], m * n * n, sol.data(), n * n);
    }
  });
  if (failure.failed()) throw singular("inv", x.shape, failure.index);
}

void det_cpu(const KernelContext& ctx, const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs,
             const Attrs&) {
  const TensorView& x = inputs[0];
  const int64_t n = x.shape.back();
  const MatrixReader reader(x);
  over_batch(ctx, batch_count(x.shape), n * n * n, [&](int64_t begin, int64_t end) {
    std::vector<double> lu(size_t(n * n)), dets(size_t(end - begin));
    std::vector<int64_t> perm(static_cast<size_t>(n));
    for (int64_t m = begin; m < end; ++m) {
      reader.load(m, lu.data());
      double d = lu_factor(lu.data(), n, perm.data());
      for (int64_t i = 0; i < n && d != 0; ++i) d *= lu[size_t(i * n + i)];
      dets[size_t(m - begin)] = d;
    }
    store(outputs[0], begin, dets.data(), end - begin);
  });
}

void solve_cpu(const KernelContext& ctx, const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs,
               const Attrs&) {
  const TensorView& a = inputs[0];
  const TensorView& b = inputs[1];
  const int64_t n = a.shape.back();
  const int64_t k = b.shape.back();
  if (outputs[0].numel() == 0) return;
  const MatrixReader a_reader(a), b_reader(b);
  FirstFailure failure;
  over_batch(ctx, batch_count(a.shape), n * n * n + 2 * n * n * k, [&](int64_t begin, int64_t end) {
    std::vector<double> lu(size_t(n * n)), rhs(size_t(n * k)), sol(size_t(n * k));
    std::vector<int64_t> perm(static_cast<size_t>(n));
    for (int64_t m = begin; m < end; ++m) {
      if (failure.after(m)) return;
      a_reader.load(m, lu.data());
      if (lu_factor(lu.data(), n, perm.data()) == 0) return failure.record(m);
      b_reader.load(m, rhs.data());
      lu_solve(lu.data(), n, perm.data(), rhs.data(), k, sol.data());
      store(outputs[0], m * n * k, sol.data(), n * k);
    }
  });
  if (failure.failed()) throw singular("solve", a.shape, failure.index);
}

void cholesky_cpu(const KernelContext& ctx, const std::vector<TensorView>& inputs,
                  const std::vector<TensorView>& outputs, const Attrs&) {
  const TensorView& x = inputs[0];
  const int64_t n = x.shape.back();
  const int64_t count = n ? batch_count(x.shape) : 0;
  const MatrixReader reader(x);
  FirstFailure failure;
  over_batch(ctx, count, n * n * n / 3 + 1, [&](int64_t begin, int64_t end) {
    std::vector<double> a(size_t(n * n)), l(size_t(n * n));
    for (int64_t m = begin; m < end; ++m) {
      if (failure.after(m)) return;
      reader.load(m, a.data());
      std::fill(l.begin(), l.end(), 0.0);
      // Row by row; only the lower triangle of x is read.
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j <= i; ++j) {
          double s = a[size_t(i * n + j)];
          for (int64_t p = 0; p < j; ++p) s -= l[size_t(i * n + p)] * l[size_t(j * n + p)];
          if (i == j) {
            if (!(s > 0)) return failure.record(m, i, s);
            l[size_t(i * n + i)] = std::sqrt(s);
          } else {
            l[size_t(i * n + j)] = s / l[size_t(j * n + j)];
          }
        }
      }
      store(outputs[0], m * n * n, l.data(), n * n);
    }
  });
  if (failure.failed()) {
    throw OpError("ValueError", "cholesky: the matrix is not positive definite" + where(x.shape, failure.index) +
                                    " (pivot " + std::to_string(failure.pivot) + " is " + js_number(failure.value) +
                                    "), input shape " + engine::format_shape(x.shape));
  }
}

}  // namespace

void register_linalg(kernels::KernelRegistry& registry) {
  registry.register_kernel("inv", engine::Device::CPU, inv_cpu);
  registry.register_kernel("det", engine::Device::CPU, det_cpu);
  registry.register_kernel("solve", engine::Device::CPU, solve_cpu);
  registry.register_kernel("cholesky", engine::Device::CPU, cholesky_cpu);
}

}  // namespace keras::cpu
