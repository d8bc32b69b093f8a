// Lets one header of math serve both compilers: nvcc sees __host__ __device__ functions,
// a plain C++ compiler sees ordinary inline functions.
#pragma once
#if defined(__CUDACC__)
#define FACESEL_HD __host__ __device__ inline
#else
#define FACESEL_HD inline
#endif
