//go:build tensorrt

// trtc plugins as TensorRT IPluginV3 (IPluginV3OneCore/Build/Runtime) and
// their creators (IPluginCreatorV3One). Every decision is made in Go: the
// adapter calls back by the plugin instance's integer id for output types,
// symbolic output shapes, formats, serialization and enqueue.
#include "shim.h"

#include <NvInfer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace nvinfer1;

extern "C" {
// Exported by plugin.go.
int32_t trtcGoPluginNbOutputs(int64_t id);
int32_t trtcGoPluginTypes(int64_t id, int32_t* out, int32_t nout, int32_t* in, int32_t nin);
int32_t trtcGoPluginShapes(int64_t id, int64_t* inDims, int32_t* inRanks, int32_t nin, int32_t* spec, int32_t cap);
int32_t trtcGoPluginFormat(int64_t id, int32_t pos, int32_t* types, int32_t n);
int32_t trtcGoPluginEnqueue(int64_t id, int32_t nin, int32_t nout, uintptr_t* in, uintptr_t* out, int64_t* inDims,
    int32_t* inRanks, int64_t* outDims, int32_t* outRanks, uintptr_t workspace, uintptr_t stream);
int64_t trtcGoPluginClone(int64_t id);
void trtcGoPluginRelease(int64_t id);
int32_t trtcGoPluginSerialize(int64_t id, void** data, int64_t* size);
int64_t trtcGoPluginCreate(char* name, char* version, char* ns, void* data, int64_t size);
// shim.cpp
void* trtc_plugin_registry(void);
}

namespace
{

char const* const kAttrsField = "trtc_attrs";

class GoPlugin : public IPluginV3, public IPluginV3OneCore, public IPluginV3OneBuild, public IPluginV3OneRuntime
{
public:
    GoPlugin(int64_t id, std::string name, std::string version, std::string ns)
        : mId(id), mName(std::move(name)), mVersion(std::move(version)), mNs(std::move(ns))
    {
    }
    ~GoPlugin() override
    {
        trtcGoPluginRelease(mId);
        std::free(mBlob);
    }
    int64_t id() const { return mId; }

    // IPluginV3
    IPluginCapability* getCapabilityInterface(PluginCapabilityType type) noexcept override
    {
        switch (type)
        {
        case PluginCapabilityType::kCORE: return static_cast<IPluginV3OneCore*>(this);
        case PluginCapabilityType::kBUILD: return static_cast<IPluginV3OneBuild*>(this);
        case PluginCapabilityType::kRUNTIME: return static_cast<IPluginV3OneRuntime*>(this);
        }
        return nullptr;
    }
    IPluginV3* clone() noexcept override
    {
        int64_t id = trtcGoPluginClone(mId);
        if (id < 0)
            return nullptr;
        GoPlugin* p = new GoPlugin(id, mName, mVersion, mNs);
        p->mNbInputs = mNbInputs;
        return p;
    }

    // IPluginV3OneCore
    AsciiChar const* getPluginName() const noexcept override { return mName.c_str(); }
    AsciiChar const* getPluginVersion() const noexcept override { return mVersion.c_str(); }
    AsciiChar const* getPluginNamespace() const noexcept override { return mNs.c_str(); }

    // IPluginV3OneBuild
    int32_t configurePlugin(DynamicPluginTensorDesc const*, int32_t, DynamicPluginTensorDesc const*, int32_t) noexcept override
    {
        return 0;
    }
    int32_t getOutputDataTypes(
        DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes, int32_t nbInputs) const noexcept override
    {
        std::vector<int32_t> in(nbInputs), out(nbOutputs);
        for (int32_t i = 0; i < nbInputs; ++i)
            in[i] = static_cast<int32_t>(inputTypes[i]);
        int32_t rc = trtcGoPluginTypes(mId, out.data(), nbOutputs, in.data(), nbInputs);
        for (int32_t i = 0; rc == 0 && i < nbOutputs; ++i)
            outputTypes[i] = static_cast<DataType>(out[i]);
        return rc;
    }
    // Go sees each input dim as its constant value or -1, and answers per
    // output dim (kind, a, b): kind 0 is the constant a, kind 1 is input
    // a's dim b.
    int32_t getOutputShapes(DimsExprs const* inputs, int32_t nbInputs, DimsExprs const*, int32_t, DimsExprs* outputs,
        int32_t nbOutputs, IExprBuilder& eb) noexcept override
    {
        std::vector<int64_t> dims(static_cast<size_t>(nbInputs) * Dims::MAX_DIMS, -1);
        std::vector<int32_t> ranks(nbInputs);
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            ranks[i] = inputs[i].nbDims;
            for (int32_t j = 0; j < inputs[i].nbDims; ++j)
                if (inputs[i].d[j]->isConstant())
                    dims[i * Dims::MAX_DIMS + j] = inputs[i].d[j]->getConstantValue();
        }
        int32_t cap = nbOutputs * (1 + 3 * Dims::MAX_DIMS);
        std::vector<int32_t> spec(cap);
        int32_t rc = trtcGoPluginShapes(mId, dims.data(), ranks.data(), nbInputs, spec.data(), cap);
        if (rc != 0)
            return rc;
        int32_t k = 0;
        for (int32_t o = 0; o < nbOutputs; ++o)
        {
            outputs[o].nbDims = spec[k++];
            for (int32_t j = 0; j < outputs[o].nbDims; ++j, k += 3)
            {
                if (spec[k] == 0)
                    outputs[o].d[j] = eb.constant(spec[k + 1]);
                else if (spec[k + 1] >= 0 && spec[k + 1] < nbInputs && spec[k + 2] >= 0
                    && spec[k + 2] < inputs[spec[k + 1]].nbDims)
                    outputs[o].d[j] = inputs[spec[k + 1]].d[spec[k + 2]];
                else
                    return -1;
            }
        }
        return 0;
    }
    bool supportsFormatCombination(
        int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t, int32_t) noexcept override
    {
        if (inOut[pos].desc.format != TensorFormat::kLINEAR)
            return false;
        std::vector<int32_t> types(pos + 1);
        for (int32_t i = 0; i <= pos; ++i)
            types[i] = static_cast<int32_t>(inOut[i].desc.type);
        return trtcGoPluginFormat(mId, pos, types.data(), pos + 1) != 0;
    }
    int32_t getNbOutputs() const noexcept override { return trtcGoPluginNbOutputs(mId); }

    // IPluginV3OneRuntime
    int32_t onShapeChange(PluginTensorDesc const*, int32_t nbInputs, PluginTensorDesc const*, int32_t) noexcept override
    {
        mNbInputs = nbInputs; // enqueue is not told; a deserialized plugin learns it here
        return 0;
    }
    int32_t enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc, void const* const* inputs,
        void* const* outputs, void* workspace, cudaStream_t stream) noexcept override
    {
        int32_t nin = mNbInputs, nout = getNbOutputs();
        std::vector<uintptr_t> in(nin), out(nout);
        std::vector<int64_t> inDims(static_cast<size_t>(nin) * Dims::MAX_DIMS), outDims(static_cast<size_t>(nout) * Dims::MAX_DIMS);
        std::vector<int32_t> inRanks(nin), outRanks(nout);
        for (int32_t i = 0; i < nin; ++i)
        {
            in[i] = reinterpret_cast<uintptr_t>(inputs[i]);
            inRanks[i] = inputDesc[i].dims.nbDims;
            for (int32_t j = 0; j < inRanks[i]; ++j)
                inDims[i * Dims::MAX_DIMS + j] = inputDesc[i].dims.d[j];
        }
        for (int32_t i = 0; i < nout; ++i)
        {
            out[i] = reinterpret_cast<uintptr_t>(outputs[i]);
            outRanks[i] = outputDesc[i].dims.nbDims;
            for (int32_t j = 0; j < outRanks[i]; ++j)
                outDims[i * Dims::MAX_DIMS + j] = outputDesc[i].dims.d[j];
        }
        return trtcGoPluginEnqueue(mId, nin, nout, in.data(), out.data(), inDims.data(), inRanks.data(),
            outDims.data(), outRanks.data(), reinterpret_cast<uintptr_t>(workspace), reinterpret_cast<uintptr_t>(stream));
    }
    IPluginV3* attachToContext(IPluginResourceContext*) noexcept override { return clone(); }
    PluginFieldCollection const* getFieldsToSerialize() noexcept override
    {
        std::free(mBlob);
        mBlob = nullptr;
        int64_t size = 0;
        if (trtcGoPluginSerialize(mId, &mBlob, &size) != 0)
            return nullptr;
        mField = PluginField(kAttrsField, mBlob, PluginFieldType::kUNKNOWN, static_cast<int32_t>(size));
        mFields.nbFields = 1;
        mFields.fields = &mField;
        return &mFields;
    }

    int32_t mNbInputs{0};

private:
    int64_t mId;
    std::string mName, mVersion, mNs;
    void* mBlob{nullptr};
    PluginField mField;
    PluginFieldCollection mFields;
};

class GoCreator : public IPluginCreatorV3One
{
public:
    GoCreator(char const* name, char const* version, char const* ns) : mName(name), mVersion(version), mNs(ns)
    {
        mField = PluginField(kAttrsField, nullptr, PluginFieldType::kUNKNOWN, 0);
        mFields.nbFields = 1;
        mFields.fields = &mField;
    }
    IPluginV3* createPlugin(AsciiChar const*, PluginFieldCollection const* fc, TensorRTPhase) noexcept override
    {
        void const* data = nullptr;
        int64_t size = 0;
        for (int32_t i = 0; fc && i < fc->nbFields; ++i)
        {
            if (fc->fields[i].name && std::strcmp(fc->fields[i].name, kAttrsField) == 0)
            {
                data = fc->fields[i].data;
                size = fc->fields[i].length;
            }
        }
        int64_t id = trtcGoPluginCreate(const_cast<char*>(mName.c_str()), const_cast<char*>(mVersion.c_str()),
            const_cast<char*>(mNs.c_str()), const_cast<void*>(data), size);
        return id < 0 ? nullptr : new GoPlugin(id, mName, mVersion, mNs);
    }
    PluginFieldCollection const* getFieldNames() noexcept override { return &mFields; }
    AsciiChar const* getPluginName() const noexcept override { return mName.c_str(); }
    AsciiChar const* getPluginVersion() const noexcept override { return mVersion.c_str(); }
    AsciiChar const* getPluginNamespace() const noexcept override { return mNs.c_str(); }

private:
    std::string mName, mVersion, mNs;
    PluginField mField;
    PluginFieldCollection mFields;
};

} // namespace

extern "C" {

trtc_l trtc_add_plugin(trtc_net n, trtc_t const* in, int nin, trtc_t const* shapeIn, int nshape, int64_t id,
    char const* name, char const* version, char const* ns)
{
    // The network keeps a reference to the plugin: it lives as long as the
    // network (TensorRT clones it into the engine).
    GoPlugin* p = new GoPlugin(id, name, version, ns);
    p->mNbInputs = nin;
    return static_cast<INetworkDefinition*>(n)->addPluginV3(
        reinterpret_cast<ITensor* const*>(in), nin, reinterpret_cast<ITensor* const*>(shapeIn), nshape, *p);
}

int trtc_register_plugin_creator(char const* name, char const* version, char const* ns)
{
    IPluginRegistry* r = static_cast<IPluginRegistry*>(trtc_plugin_registry());
    if (!r)
        return -1;
    // Creators live for the process, as TensorRT's registry requires.
    GoCreator* c = new GoCreator(name, version, ns);
    return r->registerCreator(*c, ns) ? 0 : -1;
}

} // extern "C"
