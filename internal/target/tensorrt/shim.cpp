//go:build tensorrt

// The C++ side of trtc's TensorRT target: a C interface (shim.h) over
// NvInfer.h. libnvinfer is never linked: trtc_load dlopens it and resolves
// TensorRT's exported C entry points with dlsym; everything else is a
// virtual call through the interfaces those entry points return.
#include "shim.h"

#include <NvInfer.h>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace nvinfer1;

// Go callbacks (exported by cgo.go).
extern "C" void trtcGoLog(int64_t id, int32_t severity, char* msg);
extern "C" void trtcGoError(int64_t id, int32_t code, char* msg);

namespace
{

typedef void* (*CreateFn)(void* logger, int32_t version);
typedef int32_t (*VersionFn)();
typedef IPluginRegistry* (*RegistryFn)();

struct Library
{
    void* handle{nullptr};
    CreateFn createBuilder{nullptr};
    CreateFn createRuntime{nullptr};
    VersionFn version{nullptr};
    RegistryFn registry{nullptr};
};
Library lib;

// GoLogger routes TensorRT's log to Go (then log/slog) by integer id.
class GoLogger : public ILogger
{
public:
    explicit GoLogger(int64_t id) : mId(id) {}
    void log(Severity severity, AsciiChar const* msg) noexcept override
    {
        trtcGoLog(mId, static_cast<int32_t>(severity), const_cast<char*>(msg));
    }

private:
    int64_t mId;
};

// GoRecorder hands TensorRT's error codes to Go, where they become diag
// codes; it keeps them too, as IErrorRecorder must answer queries.
class GoRecorder : public IErrorRecorder
{
public:
    explicit GoRecorder(int64_t id) : mId(id) {}
    int32_t getNbErrors() const noexcept override
    {
        std::lock_guard<std::mutex> g(mMu);
        return static_cast<int32_t>(mErrors.size());
    }
    ErrorCode getErrorCode(int32_t i) const noexcept override
    {
        std::lock_guard<std::mutex> g(mMu);
        return i >= 0 && i < static_cast<int32_t>(mErrors.size()) ? mErrors[i].first : ErrorCode::kINVALID_ARGUMENT;
    }
    ErrorDesc getErrorDesc(int32_t i) const noexcept override
    {
        std::lock_guard<std::mutex> g(mMu);
        return i >= 0 && i < static_cast<int32_t>(mErrors.size()) ? mErrors[i].second.c_str() : "";
    }
    bool hasOverflowed() const noexcept override { return false; }
    void clear() noexcept override
    {
        std::lock_guard<std::mutex> g(mMu);
        mErrors.clear();
    }
    bool reportError(ErrorCode code, ErrorDesc desc) noexcept override
    {
        {
            std::lock_guard<std::mutex> g(mMu);
            if (mErrors.size() < 256)
                mErrors.emplace_back(code, desc ? desc : "");
        }
        trtcGoError(mId, static_cast<int32_t>(code), const_cast<char*>(desc ? desc : ""));
        return false;
    }
    RefCount incRefCount() noexcept override { return ++mRefs; }
    RefCount decRefCount() noexcept override { return --mRefs; }

private:
    int64_t mId;
    mutable std::mutex mMu;
    std::vector<std::pair<ErrorCode, std::string>> mErrors;
    RefCount mRefs{0};
};

struct Builder
{
    IBuilder* b;
    GoLogger log;
    GoRecorder rec;
    Builder(int64_t id) : b(nullptr), log(id), rec(id) {}
};

struct Config
{
    IBuilderConfig* c{nullptr};
    ITimingCache* cache{nullptr};
};

struct Runtime
{
    IRuntime* r;
    GoLogger log;
    GoRecorder rec;
    Runtime(int64_t id) : r(nullptr), log(id), rec(id) {}
};

Dims dims(int64_t const* v, int n)
{
    Dims d{};
    d.nbDims = n < 0 ? 0 : (n > Dims::MAX_DIMS ? Dims::MAX_DIMS : n);
    for (int i = 0; i < d.nbDims; ++i)
        d.d[i] = v[i];
    return d;
}

Weights weights(trtc_weights w)
{
    return Weights{static_cast<DataType>(w.type), w.values, w.count};
}

INetworkDefinition* N(trtc_net n) { return static_cast<INetworkDefinition*>(n); }
ITensor& T(trtc_t t) { return *static_cast<ITensor*>(t); }

} // namespace

extern "C" {

int trtc_load(char const* const* paths, int n, char* err, size_t errlen)
{
    std::string why;
    for (int i = 0; i < n; ++i)
    {
        void* h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
        {
            char const* e = dlerror();
            why += std::string(paths[i]) + ": " + (e ? e : "cannot open") + "\n";
            continue;
        }
        Library l;
        l.handle = h;
        l.createBuilder = reinterpret_cast<CreateFn>(dlsym(h, "createInferBuilder_INTERNAL"));
        l.createRuntime = reinterpret_cast<CreateFn>(dlsym(h, "createInferRuntime_INTERNAL"));
        l.version = reinterpret_cast<VersionFn>(dlsym(h, "getInferLibVersion"));
        l.registry = reinterpret_cast<RegistryFn>(dlsym(h, "getPluginRegistry"));
        if (!l.createBuilder || !l.createRuntime || !l.version)
        {
            why += std::string(paths[i]) + ": opened, but createInferBuilder_INTERNAL, createInferRuntime_INTERNAL or getInferLibVersion is missing\n";
            dlclose(h);
            continue;
        }
        lib = l;
        return i;
    }
    if (errlen > 0)
    {
        std::strncpy(err, why.c_str(), errlen - 1);
        err[errlen - 1] = 0;
    }
    return -1;
}

int32_t trtc_header_version(void) { return NV_TENSORRT_VERSION; }
int32_t trtc_library_version(void) { return lib.version ? lib.version() : 0; }

// ---- builder ----

void* trtc_builder_create(int64_t id)
{
    if (!lib.createBuilder)
        return nullptr;
    Builder* b = new Builder(id);
    b->b = static_cast<IBuilder*>(lib.createBuilder(&b->log, NV_TENSORRT_VERSION));
    if (!b->b)
    {
        delete b;
        return nullptr;
    }
    b->b->setErrorRecorder(&b->rec);
    return b;
}

void trtc_builder_destroy(void* p)
{
    Builder* b = static_cast<Builder*>(p);
    delete b->b;
    delete b;
}

trtc_net trtc_network_create(void* p, int32_t preferJit)
{
    Builder* b = static_cast<Builder*>(p);
    NetworkDefinitionCreationFlags flags = 0;
#if NV_TENSORRT_MAJOR < 11
    // TensorRT 10 is weakly typed unless asked; 11 is always strongly typed.
    flags |= 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
#endif
    if (preferJit)
        flags |= 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kPREFER_JIT_PYTHON_PLUGINS);
    INetworkDefinition* n = b->b->createNetworkV2(flags);
    if (n)
        n->setErrorRecorder(&b->rec);
    return n;
}

void trtc_network_destroy(trtc_net n) { delete N(n); }

void* trtc_config_create(void* p)
{
    Builder* b = static_cast<Builder*>(p);
    IBuilderConfig* c = b->b->createBuilderConfig();
    if (!c)
        return nullptr;
    Config* cfg = new Config;
    cfg->c = c;
    return cfg;
}

void trtc_config_destroy(void* p)
{
    Config* c = static_cast<Config*>(p);
    delete c->cache;
    delete c->c;
    delete c;
}

int trtc_config_set_workspace(void* p, int64_t bytes)
{
    static_cast<Config*>(p)->c->setMemoryPoolLimit(MemoryPoolType::kWORKSPACE, static_cast<size_t>(bytes));
    return 0;
}

int trtc_config_set_opt_level(void* p, int32_t level)
{
    static_cast<Config*>(p)->c->setBuilderOptimizationLevel(level);
    return 0;
}

int trtc_config_set_hardware_compat(void* p, int32_t level)
{
    static_cast<Config*>(p)->c->setHardwareCompatibilityLevel(static_cast<HardwareCompatibilityLevel>(level));
    return 0;
}

int trtc_config_set_flag(void* p, char const* name, int on)
{
    static struct
    {
        char const* name;
        BuilderFlag flag;
    } const flags[] = {
        {"refit", BuilderFlag::kREFIT},
        {"refit_identical", BuilderFlag::kREFIT_IDENTICAL},
        {"version_compatible", BuilderFlag::kVERSION_COMPATIBLE},
        {"exclude_lean_runtime", BuilderFlag::kEXCLUDE_LEAN_RUNTIME},
        {"strip_plan", BuilderFlag::kSTRIP_PLAN},
        {"tf32", BuilderFlag::kTF32},
        {"sparse_weights", BuilderFlag::kSPARSE_WEIGHTS},
        {"disable_timing_cache", BuilderFlag::kDISABLE_TIMING_CACHE},
        {"error_on_timing_cache_miss", BuilderFlag::kERROR_ON_TIMING_CACHE_MISS},
        {"direct_io", BuilderFlag::kDIRECT_IO},
        {"debug", BuilderFlag::kDEBUG},
    };
    Config* c = static_cast<Config*>(p);
    for (auto const& f : flags)
    {
        if (std::strcmp(f.name, name) == 0)
        {
            if (on)
                c->c->setFlag(f.flag);
            else
                c->c->clearFlag(f.flag);
            return 0;
        }
    }
    return -1;
}

int trtc_config_set_tactic_sources(void* p, char const* const* names, int n)
{
    static struct
    {
        char const* name;
        TacticSource src;
    } const sources[] = {
#if NV_TENSORRT_MAJOR < 11
        {"cublas", TacticSource::kCUBLAS},
        {"cublas_lt", TacticSource::kCUBLAS_LT},
        {"cudnn", TacticSource::kCUDNN},
#endif
        {"edge_mask_convolutions", TacticSource::kEDGE_MASK_CONVOLUTIONS},
        {"jit_convolutions", TacticSource::kJIT_CONVOLUTIONS},
    };
    TacticSources mask = 0;
    for (int i = 0; i < n; ++i)
    {
        bool found = false;
        for (auto const& s : sources)
        {
            if (std::strcmp(s.name, names[i]) == 0)
            {
                mask |= 1U << static_cast<uint32_t>(s.src);
                found = true;
            }
        }
        if (!found)
            return -1 - i;
    }
    return static_cast<Config*>(p)->c->setTacticSources(mask) ? 0 : -1000;
}

int trtc_config_set_timing_cache(void* p, void const* blob, size_t size)
{
    Config* c = static_cast<Config*>(p);
    ITimingCache* cache = c->c->createTimingCache(blob, size);
    if (!cache)
        return -1;
    if (!c->c->setTimingCache(*cache, false))
    {
        delete cache;
        return -1;
    }
    delete c->cache;
    c->cache = cache;
    return 0;
}

int trtc_config_get_timing_cache(void* p, void** blob, size_t* size)
{
    ITimingCache const* cache = static_cast<Config*>(p)->c->getTimingCache();
    if (!cache)
        return -1;
    IHostMemory* m = cache->serialize();
    if (!m)
        return -1;
    *size = m->size();
    *blob = std::malloc(*size ? *size : 1);
    std::memcpy(*blob, m->data(), *size);
    delete m;
    return 0;
}

void* trtc_profile_create(void* p) { return static_cast<Builder*>(p)->b->createOptimizationProfile(); }

int trtc_profile_set(void* p, char const* input, int64_t const* mn, int64_t const* opt, int64_t const* mx, int rank)
{
    IOptimizationProfile* pr = static_cast<IOptimizationProfile*>(p);
    bool ok = pr->setDimensions(input, OptProfileSelector::kMIN, dims(mn, rank))
        && pr->setDimensions(input, OptProfileSelector::kOPT, dims(opt, rank))
        && pr->setDimensions(input, OptProfileSelector::kMAX, dims(mx, rank));
    return ok ? 0 : -1;
}

int trtc_config_add_profile(void* c, void* p)
{
    return static_cast<Config*>(c)->c->addOptimizationProfile(static_cast<IOptimizationProfile*>(p));
}

void* trtc_build(void* p, trtc_net n, void* c, size_t* size)
{
    IHostMemory* m = static_cast<Builder*>(p)->b->buildSerializedNetwork(*N(n), *static_cast<Config*>(c)->c);
    if (!m)
        return nullptr;
    *size = m->size();
    void* out = std::malloc(*size ? *size : 1);
    std::memcpy(out, m->data(), *size);
    delete m;
    return out;
}

// ---- network ----

trtc_t trtc_net_add_input(trtc_net n, char const* name, int32_t type, int64_t const* d, int rank)
{
    return N(n)->addInput(name, static_cast<DataType>(type), dims(d, rank));
}

int trtc_net_mark_output(trtc_net n, trtc_t t)
{
    N(n)->markOutput(T(t));
    return 0;
}

int trtc_net_mark_output_for_shapes(trtc_net n, trtc_t t) { return N(n)->markOutputForShapes(T(t)) ? 0 : -1; }
void trtc_tensor_set_name(trtc_t t, char const* name) { T(t).setName(name); }
int trtc_tensor_rank(trtc_t t) { return T(t).getDimensions().nbDims; }
void trtc_layer_set_name(trtc_l l, char const* name) { static_cast<ILayer*>(l)->setName(name); }
trtc_t trtc_layer_output(trtc_l l, int i) { return static_cast<ILayer*>(l)->getOutput(i); }

int trtc_layer_set_input(trtc_l l, int i, trtc_t t)
{
    static_cast<ILayer*>(l)->setInput(i, T(t));
    return 0;
}

// ---- layers ----

trtc_l trtc_add_convolution(trtc_net n, trtc_t in, int64_t nbOutputMaps, int64_t const* kernel, int rank,
    trtc_weights k, trtc_weights b, int64_t const* stride, int64_t const* pre, int64_t const* post,
    int64_t const* dilation, int32_t paddingMode, int64_t groups, int deconv)
{
    if (deconv)
    {
        IDeconvolutionLayer* l
            = N(n)->addDeconvolutionNd(T(in), nbOutputMaps, dims(kernel, rank), weights(k), weights(b));
        if (!l)
            return nullptr;
        l->setStrideNd(dims(stride, rank));
        l->setPrePadding(dims(pre, rank));
        l->setPostPadding(dims(post, rank));
        l->setPaddingMode(static_cast<PaddingMode>(paddingMode));
        l->setNbGroups(groups);
        l->setDilationNd(dims(dilation, rank));
        return l;
    }
    IConvolutionLayer* l = N(n)->addConvolutionNd(T(in), nbOutputMaps, dims(kernel, rank), weights(k), weights(b));
    if (!l)
        return nullptr;
    l->setStrideNd(dims(stride, rank));
    l->setPrePadding(dims(pre, rank));
    l->setPostPadding(dims(post, rank));
    l->setPaddingMode(static_cast<PaddingMode>(paddingMode));
    l->setNbGroups(groups);
    l->setDilationNd(dims(dilation, rank));
    return l;
}

trtc_l trtc_add_pooling(trtc_net n, trtc_t in, int32_t type, int64_t const* window, int rank, int64_t const* stride,
    int64_t const* pre, int64_t const* post, int32_t paddingMode, float blend, int excludePadding)
{
    IPoolingLayer* l = N(n)->addPoolingNd(T(in), static_cast<PoolingType>(type), dims(window, rank));
    if (!l)
        return nullptr;
    l->setStrideNd(dims(stride, rank));
    l->setPrePadding(dims(pre, rank));
    l->setPostPadding(dims(post, rank));
    l->setPaddingMode(static_cast<PaddingMode>(paddingMode));
    l->setBlendFactor(blend);
    l->setAverageCountExcludesPadding(excludePadding != 0);
    return l;
}

trtc_l trtc_add_activation(trtc_net n, trtc_t in, int32_t type, float alpha, float beta)
{
    IActivationLayer* l = N(n)->addActivation(T(in), static_cast<ActivationType>(type));
    if (!l)
        return nullptr;
    l->setAlpha(alpha);
    l->setBeta(beta);
    return l;
}

trtc_l trtc_add_lrn(trtc_net n, trtc_t in, int64_t window, float alpha, float beta, float k)
{
    return N(n)->addLRN(T(in), window, alpha, beta, k);
}

trtc_l trtc_add_scale(trtc_net n, trtc_t in, int32_t mode, trtc_weights shift, trtc_weights scale, trtc_weights power,
    int32_t channelAxis)
{
    return N(n)->addScaleNd(
        T(in), static_cast<ScaleMode>(mode), weights(shift), weights(scale), weights(power), channelAxis);
}

trtc_l trtc_add_softmax(trtc_net n, trtc_t in, uint32_t axes)
{
    ISoftMaxLayer* l = N(n)->addSoftMax(T(in));
    if (l)
        l->setAxes(axes);
    return l;
}

trtc_l trtc_add_concatenation(trtc_net n, trtc_t const* in, int nin, int32_t axis)
{
    IConcatenationLayer* l = N(n)->addConcatenation(reinterpret_cast<ITensor* const*>(in), nin);
    if (l)
        l->setAxis(axis);
    return l;
}

trtc_l trtc_add_elementwise(trtc_net n, trtc_t a, trtc_t b, int32_t op)
{
    return N(n)->addElementWise(T(a), T(b), static_cast<ElementWiseOperation>(op));
}

trtc_l trtc_add_unary(trtc_net n, trtc_t in, int32_t op)
{
    return N(n)->addUnary(T(in), static_cast<UnaryOperation>(op));
}

trtc_l trtc_add_padding(trtc_net n, trtc_t in, int64_t const* pre, int64_t const* post, int rank)
{
    return N(n)->addPaddingNd(T(in), dims(pre, rank), dims(post, rank));
}

static Permutation perm(int32_t const* p, int np)
{
    Permutation out{};
    for (int i = 0; i < Dims::MAX_DIMS; ++i)
        out.order[i] = i;
    for (int i = 0; i < np && i < Dims::MAX_DIMS; ++i)
        out.order[i] = p[i];
    return out;
}

trtc_l trtc_add_shuffle(trtc_net n, trtc_t in, int32_t const* first, int nfirst, int hasReshape,
    int64_t const* reshape, int nreshape, int32_t const* second, int nsecond, int zeroIsPlaceholder)
{
    IShuffleLayer* l = N(n)->addShuffle(T(in));
    if (!l)
        return nullptr;
    l->setFirstTranspose(perm(first, nfirst));
    if (hasReshape)
        l->setReshapeDimensions(dims(reshape, nreshape));
    l->setSecondTranspose(perm(second, nsecond));
    l->setZeroIsPlaceholder(zeroIsPlaceholder != 0);
    return l;
}

trtc_l trtc_add_reduce(trtc_net n, trtc_t in, int32_t op, uint32_t axes, int keep)
{
    return N(n)->addReduce(T(in), static_cast<ReduceOperation>(op), axes, keep != 0);
}

trtc_l trtc_add_topk(trtc_net n, trtc_t in, int32_t op, int32_t k, uint32_t axes, int32_t indicesType)
{
    return N(n)->addTopK(T(in), static_cast<TopKOperation>(op), k, axes, static_cast<DataType>(indicesType));
}

trtc_l trtc_add_gather(trtc_net n, trtc_t data, trtc_t indices, int32_t mode, int32_t axis, int32_t nbElementWiseDims)
{
    IGatherLayer* l = N(n)->addGatherV2(T(data), T(indices), static_cast<GatherMode>(mode));
    if (!l)
        return nullptr;
    l->setGatherAxis(axis);
    l->setNbElementWiseDims(nbElementWiseDims);
    return l;
}

trtc_l trtc_add_matrix_multiply(trtc_net n, trtc_t a, int32_t opA, trtc_t b, int32_t opB)
{
    return N(n)->addMatrixMultiply(T(a), static_cast<MatrixOperation>(opA), T(b), static_cast<MatrixOperation>(opB));
}

trtc_l trtc_add_ragged_softmax(trtc_net n, trtc_t in, trtc_t bounds) { return N(n)->addRaggedSoftMax(T(in), T(bounds)); }

trtc_l trtc_add_constant(trtc_net n, int64_t const* d, int rank, trtc_weights w)
{
    return N(n)->addConstant(dims(d, rank), weights(w));
}

trtc_l trtc_add_identity(trtc_net n, trtc_t in) { return N(n)->addIdentity(T(in)); }
trtc_l trtc_add_cast(trtc_net n, trtc_t in, int32_t to) { return N(n)->addCast(T(in), static_cast<DataType>(to)); }

trtc_l trtc_add_slice(trtc_net n, trtc_t in, int64_t const* start, int64_t const* size, int64_t const* stride, int rank,
    int64_t const* axes, int naxes, int32_t mode)
{
    ISliceLayer* l = N(n)->addSlice(T(in), dims(start, rank), dims(size, rank), dims(stride, rank));
    if (!l)
        return nullptr;
    if (naxes > 0)
        l->setAxes(dims(axes, naxes));
    l->setMode(static_cast<SampleMode>(mode));
    return l;
}

trtc_l trtc_add_shape(trtc_net n, trtc_t in) { return N(n)->addShape(T(in)); }
trtc_l trtc_add_parametric_relu(trtc_net n, trtc_t in, trtc_t slope) { return N(n)->addParametricReLU(T(in), T(slope)); }

trtc_l trtc_add_resize(trtc_net n, trtc_t in, int64_t const* outDims, int nout, float const* scales, int nscales,
    int32_t mode, int32_t coord, int32_t selector, int32_t rounding, float cubic, int excludeOutside)
{
    IResizeLayer* l = N(n)->addResize(T(in));
    if (!l)
        return nullptr;
    if (nout > 0)
        l->setOutputDimensions(dims(outDims, nout));
    if (nscales > 0)
        l->setScales(scales, nscales);
    l->setResizeMode(static_cast<InterpolationMode>(mode));
    l->setCoordinateTransformation(static_cast<ResizeCoordinateTransformation>(coord));
    l->setSelectorForSinglePixel(static_cast<ResizeSelector>(selector));
    l->setNearestRounding(static_cast<ResizeRoundMode>(rounding));
    l->setCubicCoeff(cubic);
    l->setExcludeOutside(excludeOutside != 0);
    return l;
}

trtc_l trtc_add_select(trtc_net n, trtc_t c, trtc_t a, trtc_t b) { return N(n)->addSelect(T(c), T(a), T(b)); }

trtc_l trtc_add_fill(trtc_net n, int64_t const* d, int rank, int32_t op, int32_t toType, double alpha, double beta)
{
    IFillLayer* l = N(n)->addFill(dims(d, rank), static_cast<FillOperation>(op), static_cast<DataType>(toType));
    if (!l)
        return nullptr;
    l->setAlpha(alpha);
    l->setBeta(beta);
    return l;
}

trtc_l trtc_add_quantize(trtc_net n, trtc_t in, trtc_t scale, int32_t toType, int32_t axis, int64_t const* block,
    int nblock, int dequantize)
{
    if (dequantize)
    {
        IDequantizeLayer* l = N(n)->addDequantize(T(in), T(scale), static_cast<DataType>(toType));
        if (!l)
            return nullptr;
        l->setAxis(axis);
        if (nblock > 0)
            l->setBlockShape(dims(block, nblock));
        return l;
    }
    IQuantizeLayer* l = N(n)->addQuantize(T(in), T(scale), static_cast<DataType>(toType));
    if (!l)
        return nullptr;
    l->setAxis(axis);
    if (nblock > 0)
        l->setBlockShape(dims(block, nblock));
    return l;
}

trtc_l trtc_add_scatter(trtc_net n, trtc_t data, trtc_t indices, trtc_t updates, int32_t mode, int32_t axis)
{
    IScatterLayer* l = N(n)->addScatter(T(data), T(indices), T(updates), static_cast<ScatterMode>(mode));
    if (l)
        l->setAxis(axis);
    return l;
}

trtc_l trtc_add_einsum(trtc_net n, trtc_t const* in, int nin, char const* equation)
{
    return N(n)->addEinsum(reinterpret_cast<ITensor* const*>(in), nin, equation);
}

trtc_l trtc_add_assertion(trtc_net n, trtc_t cond, char const* message) { return N(n)->addAssertion(T(cond), message); }

trtc_l trtc_add_one_hot(trtc_net n, trtc_t indices, trtc_t values, trtc_t depth, int32_t axis)
{
    return N(n)->addOneHot(T(indices), T(values), T(depth), axis);
}

trtc_l trtc_add_non_zero(trtc_net n, trtc_t in, int32_t indicesType)
{
    return N(n)->addNonZero(T(in), static_cast<DataType>(indicesType));
}

trtc_l trtc_add_grid_sample(trtc_net n, trtc_t in, trtc_t grid, int32_t interp, int alignCorners, int32_t sampleMode)
{
    IGridSampleLayer* l = N(n)->addGridSample(T(in), T(grid));
    if (!l)
        return nullptr;
    l->setInterpolationMode(static_cast<InterpolationMode>(interp));
    l->setAlignCorners(alignCorners != 0);
    l->setSampleMode(static_cast<SampleMode>(sampleMode));
    return l;
}

trtc_l trtc_add_nms(trtc_net n, trtc_t boxes, trtc_t scores, trtc_t maxOut, int32_t indicesType, int32_t boxFormat,
    int32_t topK)
{
    INMSLayer* l = N(n)->addNMS(T(boxes), T(scores), T(maxOut), static_cast<DataType>(indicesType));
    if (!l)
        return nullptr;
    l->setBoundingBoxFormat(static_cast<BoundingBoxFormat>(boxFormat));
    l->setTopKBoxLimit(topK);
    return l;
}

trtc_l trtc_add_reverse_sequence(trtc_net n, trtc_t in, trtc_t lengths, int32_t batchAxis, int32_t seqAxis)
{
    IReverseSequenceLayer* l = N(n)->addReverseSequence(T(in), T(lengths));
    if (!l)
        return nullptr;
    l->setBatchAxis(batchAxis);
    l->setSequenceAxis(seqAxis);
    return l;
}

trtc_l trtc_add_normalization(
    trtc_net n, trtc_t in, trtc_t scale, trtc_t bias, uint32_t axes, float eps, int64_t groups, int v2)
{
    INormalizationLayer* l = v2 ? N(n)->addNormalizationV2(T(in), T(scale), T(bias), axes)
                                : N(n)->addNormalization(T(in), T(scale), T(bias), axes);
    if (!l)
        return nullptr;
    l->setEpsilon(eps);
    l->setNbGroups(groups);
    return l;
}

trtc_l trtc_add_squeeze(trtc_net n, trtc_t in, trtc_t axes, int unsqueeze)
{
    if (unsqueeze)
        return N(n)->addUnsqueeze(T(in), T(axes));
    return N(n)->addSqueeze(T(in), T(axes));
}

trtc_l trtc_add_cumulative(trtc_net n, trtc_t in, trtc_t axis, int32_t op, int exclusive, int reverse)
{
    return N(n)->addCumulative(T(in), T(axis), static_cast<CumulativeOperation>(op), exclusive != 0, reverse != 0);
}

trtc_l trtc_add_dynamic_quantize(trtc_net n, trtc_t in, int64_t const* block, int nblock, int32_t toType, int32_t scaleType)
{
    return N(n)->addDynamicQuantizeV2(
        T(in), dims(block, nblock), static_cast<DataType>(toType), static_cast<DataType>(scaleType));
}

void* trtc_add_attention(trtc_net n, trtc_t q, trtc_t k, trtc_t v, int32_t normOp, int32_t causalKind, trtc_t mask,
    int decomposable, trtc_t quantScale, int32_t quantType, char const* name)
{
#if NV_TENSORRT_MAJOR < 11
    if (causalKind > 1)
        return nullptr; // lower-right causal masks need TensorRT 11
    IAttention* a = N(n)->addAttention(T(q), T(k), T(v), static_cast<AttentionNormalizationOp>(normOp), causalKind == 1);
#else
    IAttention* a = N(n)->addAttentionV2(
        T(q), T(k), T(v), static_cast<AttentionNormalizationOp>(normOp), static_cast<CausalMaskKind>(causalKind));
#endif
    if (!a)
        return nullptr;
    if (mask)
        a->setMask(T(mask));
    a->setDecomposable(decomposable != 0);
    if (quantScale)
    {
        a->setNormalizationQuantizeScale(T(quantScale));
        a->setNormalizationQuantizeToType(static_cast<DataType>(quantType));
    }
    a->setName(name);
    return a;
}

trtc_t trtc_attention_output(void* a, int i) { return static_cast<IAttention*>(a)->getOutput(i); }

trtc_l trtc_add_rotary_embedding(trtc_net n, trtc_t in, trtc_t cos, trtc_t sin, int interleaved, int32_t dim)
{
    return N(n)->addRotaryEmbedding(T(in), T(cos), T(sin), interleaved != 0, dim);
}

trtc_l trtc_add_kv_cache_update(trtc_net n, trtc_t cache, trtc_t update, trtc_t indices, int32_t mode)
{
    return N(n)->addKVCacheUpdate(T(cache), T(update), T(indices), static_cast<KVCacheMode>(mode));
}

void* trtc_add_loop(trtc_net n, char const* name)
{
    ILoop* l = N(n)->addLoop();
    if (l)
        l->setName(name);
    return l;
}

trtc_l trtc_loop_add_recurrence(void* loop, trtc_t init) { return static_cast<ILoop*>(loop)->addRecurrence(T(init)); }

trtc_l trtc_loop_add_trip_limit(void* loop, trtc_t t, int32_t kind)
{
    return static_cast<ILoop*>(loop)->addTripLimit(T(t), static_cast<TripLimit>(kind));
}

trtc_l trtc_loop_add_iterator(void* loop, trtc_t t, int32_t axis, int reverse)
{
    return static_cast<ILoop*>(loop)->addIterator(T(t), axis, reverse != 0);
}

trtc_l trtc_loop_add_output(void* loop, trtc_t t, int32_t kind, int32_t axis)
{
    return static_cast<ILoop*>(loop)->addLoopOutput(T(t), static_cast<LoopOutput>(kind), axis);
}

void* trtc_add_if(trtc_net n, char const* name)
{
    IIfConditional* c = N(n)->addIfConditional();
    if (c)
        c->setName(name);
    return c;
}

trtc_l trtc_if_set_condition(void* c, trtc_t cond) { return static_cast<IIfConditional*>(c)->setCondition(T(cond)); }
trtc_l trtc_if_add_input(void* c, trtc_t t) { return static_cast<IIfConditional*>(c)->addInput(T(t)); }
trtc_l trtc_if_add_output(void* c, trtc_t t, trtc_t f) { return static_cast<IIfConditional*>(c)->addOutput(T(t), T(f)); }

// ---- runtime ----

void* trtc_runtime_create(int64_t id)
{
    if (!lib.createRuntime)
        return nullptr;
    Runtime* r = new Runtime(id);
    r->r = static_cast<IRuntime*>(lib.createRuntime(&r->log, NV_TENSORRT_VERSION));
    if (!r->r)
    {
        delete r;
        return nullptr;
    }
    r->r->setErrorRecorder(&r->rec);
    return r;
}

void trtc_runtime_destroy(void* p)
{
    Runtime* r = static_cast<Runtime*>(p);
    delete r->r;
    delete r;
}

static ICudaEngine* E(void* e) { return static_cast<ICudaEngine*>(e); }
static IExecutionContext* C(void* c) { return static_cast<IExecutionContext*>(c); }

void* trtc_engine_deserialize(void* r, void const* plan, size_t size)
{
    return static_cast<Runtime*>(r)->r->deserializeCudaEngine(plan, size);
}

void trtc_engine_destroy(void* e) { delete E(e); }
int trtc_engine_nb_io(void* e) { return E(e)->getNbIOTensors(); }
char const* trtc_engine_io_name(void* e, int i) { return E(e)->getIOTensorName(i); }
int trtc_engine_io_is_input(void* e, char const* name) { return E(e)->getTensorIOMode(name) == TensorIOMode::kINPUT; }
int32_t trtc_engine_io_type(void* e, char const* name) { return static_cast<int32_t>(E(e)->getTensorDataType(name)); }

int trtc_engine_io_shape(void* e, char const* name, int64_t* d)
{
    Dims s = E(e)->getTensorShape(name);
    for (int i = 0; i < s.nbDims && i < Dims::MAX_DIMS; ++i)
        d[i] = s.d[i];
    return s.nbDims;
}

int trtc_engine_nb_profiles(void* e) { return E(e)->getNbOptimizationProfiles(); }
int64_t trtc_engine_device_memory(void* e) { return E(e)->getDeviceMemorySizeV2(); }
void* trtc_context_create(void* e) { return E(e)->createExecutionContext(); }
void trtc_context_destroy(void* c) { delete C(c); }

int trtc_context_set_profile(void* c, int32_t profile, uintptr_t stream)
{
    return C(c)->setOptimizationProfileAsync(profile, reinterpret_cast<cudaStream_t>(stream)) ? 0 : -1;
}

int trtc_context_set_input_shape(void* c, char const* name, int64_t const* d, int rank)
{
    return C(c)->setInputShape(name, dims(d, rank)) ? 0 : -1;
}

int trtc_context_tensor_shape(void* c, char const* name, int64_t* d)
{
    Dims s = C(c)->getTensorShape(name);
    if (s.nbDims < 0)
        return -1;
    for (int i = 0; i < s.nbDims && i < Dims::MAX_DIMS; ++i)
        d[i] = s.d[i];
    return s.nbDims;
}

int trtc_context_set_address(void* c, char const* name, uintptr_t ptr)
{
    return C(c)->setTensorAddress(name, reinterpret_cast<void*>(ptr)) ? 0 : -1;
}

int trtc_context_enqueue(void* c, uintptr_t stream)
{
    return C(c)->enqueueV3(reinterpret_cast<cudaStream_t>(stream)) ? 0 : -1;
}

} // extern "C"

extern "C" void* trtc_plugin_registry(void) { return lib.registry ? lib.registry() : nullptr; }
