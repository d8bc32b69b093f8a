// Turning cudaError_t into CudaError with the step's name; included by the .cu files only.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "gaussian_ll_cuda.hpp"

namespace facesel {
namespace cuda {

inline std::string error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

/// Errors that a running kernel raises (reported by the next synchronising call, whatever it is),
/// as opposed to a failing API call: they leave the context unusable.
inline bool is_kernel_fault(cudaError_t status) {
  switch (status) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorAssert:
      return true;
    default:
      return false;
  }
}

/// Throws CudaError naming `what`; a kernel fault is named as such (facesel's only kernel on these
/// streams is sample_log_likelihoods), since the call that reports it is not the one that failed.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  if (is_kernel_fault(status)) {
    throw CudaError(std::string("CUDA kernel sample_log_likelihoods failed (reported by ") + what +
                    "): " + error_text(status));
  }
  throw CudaError(std::string("CUDA ") + what + " failed: " + error_text(status));
}

}  // namespace cuda
}  // namespace facesel
