//go:build tensorrt

// The C interface of trtc's TensorRT shim (shim.cpp, plugin.cpp). Every
// TensorRT object crosses as an opaque pointer; Go never sees a C++ type.
// Callbacks into Go carry integer ids (loggers, plugins), never Go pointers.
#ifndef TRTC_TENSORRT_SHIM_H
#define TRTC_TENSORRT_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* trtc_net;   // nvinfer1::INetworkDefinition*
typedef void* trtc_t;     // nvinfer1::ITensor*
typedef void* trtc_l;     // nvinfer1::ILayer*

// Weights as TensorRT takes them; values must stay alive until the build ends.
typedef struct {
	int32_t type;
	void const* values;
	int64_t count;
} trtc_weights;

// ---- library (shim.cpp) ----
// trtc_load dlopens the first of paths that opens and resolves the entry
// points; it returns the index opened, or -1 with each path's dlerror in err.
int trtc_load(char const* const* paths, int n, char* err, size_t errlen);
int32_t trtc_header_version(void);  // NV_TENSORRT_VERSION compiled against
int32_t trtc_library_version(void); // getInferLibVersion() of the loaded library

// ---- builder ----
void* trtc_builder_create(int64_t logger);
void trtc_builder_destroy(void* b);
trtc_net trtc_network_create(void* builder, int32_t prefer_jit_plugins);
void trtc_network_destroy(trtc_net n);
void* trtc_config_create(void* builder);
void trtc_config_destroy(void* c);
int trtc_config_set_workspace(void* c, int64_t bytes);
int trtc_config_set_opt_level(void* c, int32_t level);
int trtc_config_set_hardware_compat(void* c, int32_t level);
int trtc_config_set_flag(void* c, char const* flag, int on); // flag by name: "refit", "version_compatible", ...
int trtc_config_set_tactic_sources(void* c, char const* const* names, int n); // -1: unknown name
int trtc_config_set_timing_cache(void* c, void const* blob, size_t size); // blob may be empty
int trtc_config_get_timing_cache(void* c, void** blob, size_t* size);     // *blob is malloc'd
void* trtc_profile_create(void* builder);
int trtc_profile_set(void* p, char const* input, int64_t const* mn, int64_t const* opt, int64_t const* mx, int rank);
int trtc_config_add_profile(void* c, void* p);
// trtc_build returns the serialized plan (malloc'd) or NULL.
void* trtc_build(void* builder, trtc_net n, void* c, size_t* size);

// ---- network ----
trtc_t trtc_net_add_input(trtc_net n, char const* name, int32_t type, int64_t const* dims, int rank);
int trtc_net_mark_output(trtc_net n, trtc_t t);
int trtc_net_mark_output_for_shapes(trtc_net n, trtc_t t);
void trtc_tensor_set_name(trtc_t t, char const* name);
int trtc_tensor_rank(trtc_t t);
void trtc_layer_set_name(trtc_l l, char const* name);
trtc_t trtc_layer_output(trtc_l l, int i);
int trtc_layer_set_input(trtc_l l, int i, trtc_t t);

// ---- one function per layer kind, every setter applied ----
trtc_l trtc_add_convolution(trtc_net n, trtc_t in, int64_t nbOutputMaps, int64_t const* kernel, int rank,
	trtc_weights k, trtc_weights b, int64_t const* stride, int64_t const* pre, int64_t const* post,
	int64_t const* dilation, int32_t paddingMode, int64_t groups, int deconv);
trtc_l trtc_add_pooling(trtc_net n, trtc_t in, int32_t type, int64_t const* window, int rank, int64_t const* stride,
	int64_t const* pre, int64_t const* post, int32_t paddingMode, float blend, int excludePadding);
trtc_l trtc_add_activation(trtc_net n, trtc_t in, int32_t type, float alpha, float beta);
trtc_l trtc_add_lrn(trtc_net n, trtc_t in, int64_t window, float alpha, float beta, float k);
trtc_l trtc_add_scale(trtc_net n, trtc_t in, int32_t mode, trtc_weights shift, trtc_weights scale, trtc_weights power, int32_t channelAxis);
trtc_l trtc_add_softmax(trtc_net n, trtc_t in, uint32_t axes);
trtc_l trtc_add_concatenation(trtc_net n, trtc_t const* in, int nin, int32_t axis);
trtc_l trtc_add_elementwise(trtc_net n, trtc_t a, trtc_t b, int32_t op);
trtc_l trtc_add_unary(trtc_net n, trtc_t in, int32_t op);
trtc_l trtc_add_padding(trtc_net n, trtc_t in, int64_t const* pre, int64_t const* post, int rank);
trtc_l trtc_add_shuffle(trtc_net n, trtc_t in, int32_t const* first, int nfirst, int hasReshape, int64_t const* reshape,
	int nreshape, int32_t const* second, int nsecond, int zeroIsPlaceholder);
trtc_l trtc_add_reduce(trtc_net n, trtc_t in, int32_t op, uint32_t axes, int keep);
trtc_l trtc_add_topk(trtc_net n, trtc_t in, int32_t op, int32_t k, uint32_t axes, int32_t indicesType);
trtc_l trtc_add_gather(trtc_net n, trtc_t data, trtc_t indices, int32_t mode, int32_t axis, int32_t nbElementWiseDims);
trtc_l trtc_add_matrix_multiply(trtc_net n, trtc_t a, int32_t opA, trtc_t b, int32_t opB);
trtc_l trtc_add_ragged_softmax(trtc_net n, trtc_t in, trtc_t bounds);
trtc_l trtc_add_constant(trtc_net n, int64_t const* dims, int rank, trtc_weights w);
trtc_l trtc_add_identity(trtc_net n, trtc_t in);
trtc_l trtc_add_cast(trtc_net n, trtc_t in, int32_t toType);
trtc_l trtc_add_slice(trtc_net n, trtc_t in, int64_t const* start, int64_t const* size, int64_t const* stride, int rank,
	int64_t const* axes, int naxes, int32_t mode);
trtc_l trtc_add_shape(trtc_net n, trtc_t in);
trtc_l trtc_add_parametric_relu(trtc_net n, trtc_t in, trtc_t slope);
trtc_l trtc_add_resize(trtc_net n, trtc_t in, int64_t const* outDims, int nout, float const* scales, int nscales,
	int32_t mode, int32_t coord, int32_t selector, int32_t rounding, float cubic, int excludeOutside);
trtc_l trtc_add_select(trtc_net n, trtc_t c, trtc_t a, trtc_t b);
trtc_l trtc_add_fill(trtc_net n, int64_t const* dims, int rank, int32_t op, int32_t toType, double alpha, double beta);
trtc_l trtc_add_quantize(trtc_net n, trtc_t in, trtc_t scale, int32_t toType, int32_t axis, int64_t const* block, int nblock, int dequantize);
trtc_l trtc_add_scatter(trtc_net n, trtc_t data, trtc_t indices, trtc_t updates, int32_t mode, int32_t axis);
trtc_l trtc_add_einsum(trtc_net n, trtc_t const* in, int nin, char const* equation);
trtc_l trtc_add_assertion(trtc_net n, trtc_t cond, char const* message);
trtc_l trtc_add_one_hot(trtc_net n, trtc_t indices, trtc_t values, trtc_t depth, int32_t axis);
trtc_l trtc_add_non_zero(trtc_net n, trtc_t in, int32_t indicesType);
trtc_l trtc_add_grid_sample(trtc_net n, trtc_t in, trtc_t grid, int32_t interp, int alignCorners, int32_t sampleMode);
trtc_l trtc_add_nms(trtc_net n, trtc_t boxes, trtc_t scores, trtc_t maxOut, int32_t indicesType, int32_t boxFormat, int32_t topK);
trtc_l trtc_add_reverse_sequence(trtc_net n, trtc_t in, trtc_t lengths, int32_t batchAxis, int32_t seqAxis);
trtc_l trtc_add_normalization(trtc_net n, trtc_t in, trtc_t scale, trtc_t bias, uint32_t axes, float eps, int64_t groups, int v2);
trtc_l trtc_add_squeeze(trtc_net n, trtc_t in, trtc_t axes, int unsqueeze);
trtc_l trtc_add_cumulative(trtc_net n, trtc_t in, trtc_t axis, int32_t op, int exclusive, int reverse);
trtc_l trtc_add_dynamic_quantize(trtc_net n, trtc_t in, int64_t const* block, int nblock, int32_t toType, int32_t scaleType);
// trtc_add_attention: causalKind is CausalMaskKind; on TensorRT 10 only
// none and upper-left (causal=true) exist. Returns the IAttention as a
// layer handle; outputs through trtc_attention_output.
void* trtc_add_attention(trtc_net n, trtc_t q, trtc_t k, trtc_t v, int32_t normOp, int32_t causalKind, trtc_t mask,
	int decomposable, trtc_t quantScale, int32_t quantType, char const* name);
trtc_t trtc_attention_output(void* a, int i);
trtc_l trtc_add_rotary_embedding(trtc_net n, trtc_t in, trtc_t cos, trtc_t sin, int interleaved, int32_t dim);
trtc_l trtc_add_kv_cache_update(trtc_net n, trtc_t cache, trtc_t update, trtc_t indices, int32_t mode);
// Control flow: loops and if-conditionals own their boundary layers.
void* trtc_add_loop(trtc_net n, char const* name);
trtc_l trtc_loop_add_recurrence(void* loop, trtc_t init);
trtc_l trtc_loop_add_trip_limit(void* loop, trtc_t t, int32_t kind);
trtc_l trtc_loop_add_iterator(void* loop, trtc_t t, int32_t axis, int reverse);
trtc_l trtc_loop_add_output(void* loop, trtc_t t, int32_t kind, int32_t axis);
void* trtc_add_if(trtc_net n, char const* name);
trtc_l trtc_if_set_condition(void* c, trtc_t cond);
trtc_l trtc_if_add_input(void* c, trtc_t t);
trtc_l trtc_if_add_output(void* c, trtc_t t, trtc_t f);
// Plugins (plugin.cpp): id is the Go plugin instance's integer id.
trtc_l trtc_add_plugin(trtc_net n, trtc_t const* in, int nin, trtc_t const* shapeIn, int nshape, int64_t id,
	char const* name, char const* version, char const* ns);
int trtc_register_plugin_creator(char const* name, char const* version, char const* ns);

// ---- runtime ----
void* trtc_runtime_create(int64_t logger);
void trtc_runtime_destroy(void* r);
void* trtc_engine_deserialize(void* runtime, void const* plan, size_t size);
void trtc_engine_destroy(void* e);
int trtc_engine_nb_io(void* e);
char const* trtc_engine_io_name(void* e, int i);
int trtc_engine_io_is_input(void* e, char const* name);
int32_t trtc_engine_io_type(void* e, char const* name);
int trtc_engine_io_shape(void* e, char const* name, int64_t* dims); // returns rank
int trtc_engine_nb_profiles(void* e);
int64_t trtc_engine_device_memory(void* e);
void* trtc_context_create(void* e);
void trtc_context_destroy(void* c);
int trtc_context_set_profile(void* c, int32_t profile, uintptr_t stream);
int trtc_context_set_input_shape(void* c, char const* name, int64_t const* dims, int rank);
int trtc_context_tensor_shape(void* c, char const* name, int64_t* dims); // returns rank, -1 on error
int trtc_context_set_address(void* c, char const* name, uintptr_t ptr);
int trtc_context_enqueue(void* c, uintptr_t stream);

#ifdef __cplusplus
}
#endif
#endif
