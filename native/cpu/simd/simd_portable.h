// Portable 128-bit vectors (GCC/Clang vector extensions): SSE2 on any x86-64,
// NEON on arm64. No FMA is assumed, so fmadd is a multiply then an add.
#pragma once
#include <cstring>

namespace keras::cpu::portable {

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));

template <class Element, class Register>
struct VecImpl {
  using T = Element;
  using Reg = Register;
  static constexpr int kWidth = int(sizeof(Reg) / sizeof(T));
  static constexpr int kRegisters = 16;
  static Reg zero() { return Reg{}; }
  static Reg set1(T x) { return Reg{} + x; }
  static Reg load(const T* p) { return *reinterpret_cast<const Reg*>(p); }  // aligned
  static Reg loadu(const T* p) {
    Reg v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void storeu(T* p, Reg v) { std::memcpy(p, &v, sizeof(v)); }
  static Reg add(Reg a, Reg b) { return a + b; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg fmadd(Reg a, Reg b, Reg c) { return a * b + c; }
};

template <class T> struct Vec;
template <> struct Vec<float> : VecImpl<float, f32x4> {};
template <> struct Vec<double> : VecImpl<double, f64x2> {};

}  // namespace keras::cpu::portable
