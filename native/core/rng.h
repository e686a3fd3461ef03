// rng.h: counter-based random numbers: value = f(seed, counter), no state, no thread dependence.
#pragma once
#include <cmath>
#include <cstdint>

namespace tr {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in (0, 1), 53 bits; `stream` selects independent draws at one counter.
inline double rng_uniform(uint64_t seed, uint64_t counter, uint64_t stream) {
  uint64_t h = splitmix64(splitmix64(seed * 0x2545f4914f6cdd1dull + stream) ^ counter);
  return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller on two independent uniforms at the same counter.
inline double rng_normal(uint64_t seed, uint64_t counter) {
  double u1 = rng_uniform(seed, counter, 1), u2 = rng_uniform(seed, counter, 2);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
}

}  // namespace tr
