// HDF5 C library, serial build (Debian: libhdf5-dev), for NWB output.
#include <hdf5.h>

// HDF5's predefined types and property-list classes are macros over C globals, which Swift 6
// refuses to read: these functions return them.
static inline hid_t ephys_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ephys_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ephys_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ephys_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t ephys_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t ephys_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t ephys_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t ephys_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t ephys_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t ephys_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ephys_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline unsigned ephys_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline size_t ephys_h5t_variable(void) { return H5T_VARIABLE; }
// Silences HDF5's own error printing; Ephys reports failures itself, naming the object.
static inline void ephys_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
