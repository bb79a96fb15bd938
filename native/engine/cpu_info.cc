#include "cpu_info.h"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define KERAS_X86 1
#endif

namespace keras::engine {
namespace {

#if KERAS_X86
struct Regs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

void detect_isa(CpuInfo& info) {
  Regs v = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor + 0, &v.ebx, 4);
  std::memcpy(vendor + 4, &v.edx, 4);
  std::memcpy(vendor + 8, &v.ecx, 4);
  info.vendor = vendor;
  uint32_t max_leaf = v.eax;

  Regs ext = cpuid(0x80000000);
  if (ext.eax >= 0x80000004) {
    char brand[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
      Regs b = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i + 0, &b.eax, 4);
      std::memcpy(brand + 16 * i + 4, &b.ebx, 4);
      std::memcpy(brand + 16 * i + 8, &b.ecx, 4);
      std::memcpy(brand + 16 * i + 12, &b.edx, 4);
    }
    info.brand = brand;
    info.brand.erase(info.brand.find_last_not_of(' ') + 1);
  }
  if (max_leaf < 7) return;

  Regs l1 = cpuid(1);
  bool osxsave = l1.ecx & (1u << 27);
  bool fma = l1.ecx & (1u << 12);
  bool avx = l1.ecx & (1u << 28);
  if (!osxsave || !avx) return;
  uint64_t xcr0 = xgetbv0();
  // The OS must save the registers we use: xmm+ymm (bits 1,2); opmask+zmm (5,6,7).
  bool os_ymm = (xcr0 & 0x6) == 0x6;
  bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;

  Regs l7 = cpuid(7, 0);
  bool avx2 = l7.ebx & (1u << 5);
  bool avx512f = l7.ebx & (1u << 16);
  bool avx512dq = l7.ebx & (1u << 17);
  bool avx512bw = l7.ebx & (1u << 30);
  bool avx512vl = l7.ebx & (1u << 31);
  info.has_avx2_fma = os_ymm && avx2 && fma;
  info.has_avx512 = info.has_avx2_fma && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
}

// Deterministic cache parameters: AMD leaf 0x8000001D, Intel leaf 4 (same layout).
bool detect_caches_cpuid(CpuInfo& info) {
  uint32_t leaf = 0;
  if (info.vendor == "AuthenticAMD" || info.vendor == "HygonGenuine") {
    if (cpuid(0x80000000).eax < 0x8000001D) return false;
    if (!(cpuid(0x80000001).ecx & (1u << 22))) return false;  // TopologyExtensions
    leaf = 0x8000001D;
  } else {
    if (cpuid(0).eax < 4) return false;
    leaf = 4;
  }
  bool found = false;
  for (uint32_t sub = 0; sub < 16; ++sub) {
    Regs r = cpuid(leaf, sub);
    uint32_t type = r.eax & 0x1F;  // 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    uint32_t level = (r.eax >> 5) & 0x7;
    uint32_t sharing = ((r.eax >> 14) & 0xFFF) + 1;
    int64_t ways = ((r.ebx >> 22) & 0x3FF) + 1;
    int64_t partitions = ((r.ebx >> 12) & 0x3FF) + 1;
    int64_t line = (r.ebx & 0xFFF) + 1;
    int64_t sets = int64_t(r.ecx) + 1;
    int64_t bytes = ways * partitions * line * sets;
    if (level == 1) info.l1d_bytes = bytes;
    if (level == 2) info.l2_bytes = bytes;
    if (level == 3) {
      info.l3_bytes = bytes;
      info.l3_sharing_cores = int(sharing);
    }
    found = true;
  }
  return found;
}

// AMD's legacy cache leaves, for hypervisors that hide leaf 0x8000001D and sysfs' cache
// entries (a Zen 5 VM here showed neither, and the defaults blocked GEMMs for a 32 KiB L1 and
// 512 KiB L2 where it has 48 KiB and 1 MiB): 0x80000005 ECX gives the L1 data cache in KiB
// (bits 31:24), 0x80000006 ECX the L2 in KiB (bits 31:16) and EDX the L3 in 512 KiB units
// (bits 31:18). That L3 is the package's, summed over its core complexes (512 MiB on this VM's
// host, 16 of them): one complex's, which the cores of one process share, is at most 32 MiB on
// Zen 2 to 5 without V-Cache, so no more is taken. The cores sharing it stay at the default.
constexpr int64_t kLargestComplexL3 = int64_t(32) << 20;

bool detect_caches_amd_legacy(CpuInfo& info) {
  if (info.vendor != "AuthenticAMD" && info.vendor != "HygonGenuine") return false;
  if (cpuid(0x80000000).eax < 0x80000006) return false;
  const int64_t l1d = int64_t(cpuid(0x80000005).ecx >> 24) * 1024;
  const Regs l2l3 = cpuid(0x80000006);
  const int64_t l2 = int64_t(l2l3.ecx >> 16) * 1024, l3 = int64_t(l2l3.edx >> 18) * 512 * 1024;
  if (l1d > 0) info.l1d_bytes = l1d;
  if (l2 > 0) info.l2_bytes = l2;
  if (l3 > 0) info.l3_bytes = std::min<int64_t>(l3, kLargestComplexL3);
  return l1d > 0 || l2 > 0;
}

int smt_width() {
  if (cpuid(0).eax >= 0xB) {
    Regs r = cpuid(0xB, 0);  // level 0 = SMT: logical processors per core
    if (((r.ecx >> 8) & 0xFF) == 1 && (r.ebx & 0xFFFF) > 0) return int(r.ebx & 0xFFFF);
  }
  if (cpuid(0x80000000).eax >= 0x8000001E) {
    return int(((cpuid(0x8000001E).ebx >> 8) & 0xFF) + 1);
  }
  return 1;
}
#endif

int64_t read_sysfs_size(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s.empty()) return 0;
  int64_t v = std::atoll(s.c_str());
  char unit = s.back();
  if (unit == 'K') v *= 1024;
  if (unit == 'M') v *= 1024 * 1024;
  return v;
}

bool detect_caches_sysfs(CpuInfo& info) {
  bool found = false;
  for (int i = 0; i < 8; ++i) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream level_file(dir + "level"), type_file(dir + "type");
    int level = 0;
    std::string type;
    if (!(level_file >> level) || !(type_file >> type)) break;
    if (type == "Instruction") continue;
    int64_t bytes = read_sysfs_size(dir + "size");
    if (bytes <= 0) continue;
    if (level == 1) info.l1d_bytes = bytes;
    if (level == 2) info.l2_bytes = bytes;
    if (level == 3) info.l3_bytes = bytes;
    found = true;
  }
  return found;
}

CpuInfo detect() {
  CpuInfo info;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    info.logical_cpus = std::max(1, CPU_COUNT(&set));
  } else {
    info.logical_cpus = std::max(1u, std::thread::hardware_concurrency());
  }
  int smt = 1;
#if KERAS_X86
  detect_isa(info);
  if (!detect_caches_cpuid(info) && !detect_caches_sysfs(info)) detect_caches_amd_legacy(info);
  smt = std::max(1, smt_width());
#else
  detect_caches_sysfs(info);
#endif
  info.physical_cores = std::max(1, info.logical_cpus / smt);
  return info;
}

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace keras::engine
