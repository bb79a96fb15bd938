// Elementwise and reduction op lists. Names, dtype rules and attributes follow
// lib/ops/elementwise.ts and lib/ops/reduction.ts; each list is written once here
// (X-macros) and expanded into enums, inference and kernels. Header-only and
// dependency-free, so ISA translation units can include it.
#pragma once
#include <cstdint>

namespace keras::kernels {

// X(name, Enum, kind). Unary kinds: Same (numeric, keeps dtype), Float (float
// input), Predicate (float input, bool output), Logical (bool in, bool out).
#define KERAS_UNARY_OPS(X)                                                                                  \
  X(negative, Negative, Same) X(abs, Abs, Same) X(sign, Sign, Same) X(square, Square, Same)                 \
  X(round, Round, Same) X(exp, Exp, Float) X(expm1, Expm1, Float) X(log, Log, Float) X(log1p, Log1p, Float) \
  X(sqrt, Sqrt, Float) X(rsqrt, Rsqrt, Float) X(reciprocal, Reciprocal, Float) X(sin, Sin, Float)            \
  X(cos, Cos, Float) X(tan, Tan, Float) X(arcsin, Arcsin, Float) X(arccos, Arccos, Float)                    \
  X(arctan, Arctan, Float) X(sinh, Sinh, Float) X(cosh, Cosh, Float) X(tanh, Tanh, Float)                    \
  X(arcsinh, Arcsinh, Float) X(arccosh, Arccosh, Float) X(arctanh, Arctanh, Float) X(floor, Floor, Float)    \
  X(ceil, Ceil, Float) X(erf, Erf, Float) X(erfinv, Erfinv, Float) X(sigmoid, Sigmoid, Float)                \
  X(gelu, Gelu, Float) X(geluTanh, GeluTanh, Float) X(silu, Silu, Float) X(softplus, Softplus, Float)      \
  X(relu, Relu, Same) X(relu6, Relu6, Same) X(hardSigmoid, HardSigmoid, Float)                              \
  X(hardSilu, HardSilu, Float) X(softsign, Softsign, Float) X(logSigmoid, LogSigmoid, Float)                \
  X(selu, Selu, Float) X(hardTanh, HardTanh, Float) X(geluDerivative, GeluDerivative, Float)              \
  X(isnan, Isnan, Predicate) X(isinf, Isinf, Predicate) X(isfinite, Isfinite, Predicate)                    \
  X(logicalNot, LogicalNot, Logical)

// Binary kinds: Arith (numeric, keeps dtype), Compare (bool output), Logical (bool).
// leakyRelu, elu and celu are activations of x with their parameter as the second operand
// (a scalar from ops.nn; float operands only, checked in lib/ops/elementwise.ts). The bool
// kinds come last (elementwise_kernels.h's bool_result reads the order).
#define KERAS_BINARY_OPS(X)                                                                                \
  X(add, Add, Arith) X(subtract, Subtract, Arith) X(multiply, Multiply, Arith) X(divide, Divide, Arith)   \
  X(floorDivide, FloorDivide, Arith) X(mod, Mod, Arith) X(power, Power, Arith)                             \
  X(maximum, Maximum, Arith) X(minimum, Minimum, Arith) X(arctan2, Arctan2, Arith)                         \
  X(leakyRelu, LeakyRelu, Arith) X(elu, Elu, Arith) X(celu, Celu, Arith)                                   \
  X(equal, Equal, Compare) X(notEqual, NotEqual, Compare) X(less, Less, Compare)                           \
  X(lessEqual, LessEqual, Compare) X(greater, Greater, Compare) X(greaterEqual, GreaterEqual, Compare)     \
  X(logicalAnd, LogicalAnd, Logical) X(logicalOr, LogicalOr, Logical) X(logicalXor, LogicalXor, Logical)

// Reduction kinds: Numeric (not bool, keeps dtype), Bool (bool output).
#define KERAS_REDUCE_OPS(X) \
  X(sum, Sum, Numeric) X(mean, Mean, Numeric) X(prod, Prod, Numeric) X(max, Max, Numeric) X(min, Min, Numeric) \
  X(any, Any, Bool) X(all, All, Bool)

#define KERAS_ENUM_ENTRY(name, Enum, kind) Enum,
enum class UnaryOp : uint8_t { KERAS_UNARY_OPS(KERAS_ENUM_ENTRY) kCount };
enum class BinaryOp : uint8_t { KERAS_BINARY_OPS(KERAS_ENUM_ENTRY) kCount };
enum class ReduceOp : uint8_t { KERAS_REDUCE_OPS(KERAS_ENUM_ENTRY) kCount };
#undef KERAS_ENUM_ENTRY

constexpr int kNumUnaryOps = int(UnaryOp::kCount);
constexpr int kNumBinaryOps = int(BinaryOp::kCount);
constexpr int kNumReduceOps = int(ReduceOp::kCount);
constexpr int kNumDTypes = 4;

}  // namespace keras::kernels
