using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GraphCompiler.Generators.Parse;

/// <summary>
/// Reads a <c>[Model]</c> class into a <see cref="ModelSpec"/>. This is the only stage that sees symbols
/// and syntax; what it cannot read becomes a diagnostic in the spec.
/// </summary>
internal static class ModelParser
{
    private const string Namespace = "GraphCompiler";

    /// <summary>The most elements of one tensor or weight (1 GB of floats): offsets stay far inside an int.</summary>
    internal const long MaxElements = 1L << 28;

    /// <summary>The largest kernel, stride, padding, dilation or layer count.</summary>
    private const int MaxExtent = 1 << 16;

    public static ModelSpec Parse(INamedTypeSymbol type, SemanticModel model, CancellationToken cancellation, bool isModule = false)
    {
        var diagnostics = new DiagnosticBag();
        LocationInfo? classLocation = LocationInfo.From(type.Locations.FirstOrDefault());
        if (isModule)
        {
            // A module gets no generated members: it is read here and inlined where a model calls it.
            ImmutableArray<LayerSpec> moduleLayers = ReadLayers(type, diagnostics, cancellation);
            ImmutableArray<ModuleMemberSpec> moduleMembers = ReadModuleMembers(type, diagnostics, cancellation);
            ForwardSpec? moduleForward = ReadForward(type, model.Compilation, moduleLayers, moduleMembers, diagnostics, cancellation, isModule: true);
            string? moduleNs = type.ContainingNamespace is { IsGlobalNamespace: false } mn ? mn.ToDisplayString() : null;
            return new ModelSpec(moduleNs, type.Name, moduleLayers.ToEquatableArray(), moduleForward, diagnostics.Items.ToEquatableArray(), classLocation,
                moduleMembers.ToEquatableArray(), IsModule: true, FullName: FullName(type));
        }

        bool isPartial = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellation))
            .OfType<TypeDeclarationSyntax>()
            .All(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (!isPartial)
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, classLocation, type.Name,
                "is not partial: declare it 'partial class " + type.Name + "' so that the generated members can be added");
        }

        if (type.ContainingType is not null)
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, classLocation, type.Name,
                "is nested in another type: declare it at namespace level");
        }

        if (type.IsStatic)
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, classLocation, type.Name,
                "is static: a model is instantiated (each instance is a workspace), remove 'static'");
        }

        foreach (IMethodSymbol constructor in type.InstanceConstructors.Where(c => !c.IsImplicitlyDeclared))
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, LocationInfo.From(constructor.Locations.FirstOrDefault()), type.Name,
                "declares its own constructor: the generator writes the constructors (maxBatch, seed, shared parameters), remove it");
        }

        foreach (string reserved in new[] { "InputSize", "OutputSize", "ArenaFloatsPerSample", "PackedFloats", "Parameters", "ParameterLayout", "Summary", "Graph", "MaxBatch", "Training", "Gradients", "Gradient", "Backward" })
        {
            foreach (ISymbol clash in type.GetMembers(reserved).Where(m => !m.IsImplicitlyDeclared))
            {
                diagnostics.Add(DiagnosticDescriptors.NotPartial, LocationInfo.From(clash.Locations.FirstOrDefault()), type.Name,
                    $"has a member named '{reserved}', which the generator adds: rename it");
            }
        }

        if (type.IsGenericType)
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, classLocation, type.Name,
                "is generic: a model's shapes are fixed at compile time, so it cannot have type parameters");
        }

        ImmutableArray<LayerSpec> layers = ReadLayers(type, diagnostics, cancellation);
        ImmutableArray<ModuleMemberSpec> modules = ReadModuleMembers(type, diagnostics, cancellation);
        ForwardSpec? forward = ReadForward(type, model.Compilation, layers, modules, diagnostics, cancellation, isModule: false);

        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        return new ModelSpec(ns, type.Name, layers.ToEquatableArray(), forward, diagnostics.Items.ToEquatableArray(), classLocation,
            modules.ToEquatableArray(), FullName: FullName(type));
    }

    /// <summary>The metadata name a module member refers to its class by (namespace and name).</summary>
    internal static string FullName(INamedTypeSymbol type) =>
        type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." + type.MetadataName : type.MetadataName;

    /// <summary>The class of a member whose type is a <c>[Module]</c> class (or an array of one), with the array flag.</summary>
    internal static INamedTypeSymbol? ModuleType(ITypeSymbol? type, out bool isArray)
    {
        isArray = type is IArrayTypeSymbol;
        ITypeSymbol? element = type is IArrayTypeSymbol array ? array.ElementType : type;
        return element is INamedTypeSymbol named && named.GetAttributes().Any(a => a.AttributeClass?.Name == "ModuleAttribute"
            && a.AttributeClass.ContainingNamespace?.ToDisplayString() == Namespace)
            ? named
            : null;
    }

    /// <summary>Members holding modules: <c>readonly Encoder encoder;</c>, <c>[Repeat(2)] readonly EncoderLayer[] layers;</c>.</summary>
    private static ImmutableArray<ModuleMemberSpec> ReadModuleMembers(INamedTypeSymbol type, DiagnosticBag diagnostics, CancellationToken cancellation)
    {
        var members = ImmutableArray.CreateBuilder<ModuleMemberSpec>();
        foreach (ISymbol member in type.GetMembers())
        {
            if (member is not (IFieldSymbol or IPropertySymbol) || member.IsImplicitlyDeclared || member.IsStatic)
            {
                continue;
            }

            ITypeSymbol? memberType = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
            INamedTypeSymbol? module = ModuleType(memberType, out bool isArray);
            if (module is null)
            {
                continue;
            }

            LocationInfo? location = LocationInfo.From(member.Locations.FirstOrDefault());
            AttributeData? repeat = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "RepeatAttribute"
                && a.AttributeClass.ContainingNamespace?.ToDisplayString() == Namespace);
            int count = repeat?.ConstructorArguments.FirstOrDefault().Value is int c ? c : 0;
            if (isArray && count <= 0)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                    $"{member.Name}: an array of modules needs its length, as nn.ModuleList: [Repeat(2)] readonly {module.Name}[] {member.Name};" +
                    (repeat is null ? "" : " (the count must be at least 1)"));
                continue;
            }

            if (!isArray && repeat is not null)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                    $"{member.Name}: [Repeat] makes copies of a module, so the member is an array: readonly {module.Name}[] {member.Name};");
                continue;
            }

            if (count > MaxExtent)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location, $"{member.Name}: at most {MaxExtent} copies of a module");
                continue;
            }

            members.Add(new ModuleMemberSpec(member.Name, FullName(module), isArray ? count : 0, location));
        }

        return members.ToImmutable();
    }

    private static ImmutableArray<LayerSpec> ReadLayers(INamedTypeSymbol type, DiagnosticBag diagnostics, CancellationToken cancellation)
    {
        var layers = ImmutableArray.CreateBuilder<LayerSpec>();
        foreach (ISymbol member in type.GetMembers())
        {
            if (member is not (IFieldSymbol or IPropertySymbol) || member.IsImplicitlyDeclared)
            {
                continue;
            }

            foreach (AttributeData attribute in member.GetAttributes())
            {
                if (!TryGetLayerKind(attribute.AttributeClass, out LayerKind kind))
                {
                    continue;
                }

                LocationInfo? location = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellation).GetLocation());
                if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error))
                {
                    continue; // the compiler reports the broken attribute itself
                }

                if (layers.Any(l => l.Name == member.Name && l.Kind == kind))
                {
                    continue; // the same attribute twice: the compiler reports it (CS0579)
                }

                if (layers.Any(l => l.Name == member.Name))
                {
                    diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                        $"{member.Name}: a member holds one layer; it already has a layer attribute, remove one of them");
                    continue;
                }

                LayerSpec layer = ReadLayer(member.Name, kind, attribute, location, diagnostics);
                CheckMemberType(member, layer, location, diagnostics);
                layers.Add(layer);
            }
        }

        return layers.ToImmutable();
    }

    private static bool TryGetLayerKind(INamedTypeSymbol? attributeClass, out LayerKind kind)
    {
        kind = default;
        if (attributeClass is null || attributeClass.ContainingNamespace?.ToDisplayString() != Namespace)
        {
            return false;
        }

        switch (attributeClass.Name)
        {
            case "Conv2dAttribute": kind = LayerKind.Conv2d; return true;
            case "MaxPool2dAttribute": kind = LayerKind.MaxPool2d; return true;
            case "AvgPool2dAttribute": kind = LayerKind.AvgPool2d; return true;
            case "LinearAttribute": kind = LayerKind.Linear; return true;
            case "LstmAttribute": kind = LayerKind.Lstm; return true;
            case "GruAttribute": kind = LayerKind.Gru; return true;
            case "EmbeddingAttribute": kind = LayerKind.Embedding; return true;
            case "LayerNormAttribute": kind = LayerKind.LayerNorm; return true;
            case "MultiheadAttentionAttribute": kind = LayerKind.MultiheadAttention; return true;
            case "PositionalEmbeddingAttribute": kind = LayerKind.PositionalEmbedding; return true;
            default: return false;
        }
    }

    private static LayerSpec ReadLayer(string name, LayerKind kind, AttributeData attribute, LocationInfo? location, DiagnosticBag diagnostics)
    {
        ImmutableArray<TypedConstant> args = attribute.ConstructorArguments;
        int Arg(int i) => i < args.Length && args[i].Value is int v ? v : 0;
        int Named(string key, int fallback) =>
            attribute.NamedArguments.FirstOrDefault(a => a.Key == key).Value.Value is int v ? v : fallback;
        bool NamedBool(string key, bool fallback) =>
            attribute.NamedArguments.FirstOrDefault(a => a.Key == key).Value.Value is bool v ? v : fallback;

        LayerSpec layer;
        switch (kind)
        {
            case LayerKind.Conv2d:
                layer = new LayerSpec(name, kind, Arg(0), Arg(1), Named("Kernel", args.Length > 2 ? Arg(2) : 0),
                    Named("Stride", 1), Named("Padding", 0), Named("Dilation", 1), NamedBool("Bias", true), location);
                Require(layer.In > 0, "in_channels", layer.In, "at least 1");
                Require(layer.Out > 0, "out_channels", layer.Out, "at least 1");
                if (layer.Kernel <= 0)
                {
                    diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                        $"{name}: Conv2d needs a kernel size of at least 1; write [Conv2d({layer.In}, {layer.Out}, Kernel = 3)]");
                }

                Require(layer.Stride > 0, "Stride", layer.Stride, "at least 1");
                Require(layer.Padding >= 0, "Padding", layer.Padding, "0 or more");
                Require(layer.Dilation > 0, "Dilation", layer.Dilation, "at least 1");
                break;
            case LayerKind.MaxPool2d:
            case LayerKind.AvgPool2d:
                int kernel = Arg(0);
                int stride = Named("Stride", 0);
                layer = new LayerSpec(name, kind, 0, 0, kernel, stride == 0 ? kernel : stride, Named("Padding", 0), 1, false, location);
                Require(kernel > 0, "kernel_size", kernel, "at least 1");
                Require(stride >= 0, "Stride", stride, "at least 1 (or 0 for the kernel size)");
                if (layer.Padding < 0 || layer.Padding * 2 > kernel)
                {
                    diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                        $"{name}: Padding must be between 0 and half the kernel size ({kernel / 2}), as in PyTorch; got {layer.Padding}");
                }

                break;
            case LayerKind.Lstm:
            case LayerKind.Gru:
                int numLayers = Named("NumLayers", args.Length > 2 ? Arg(2) : 1);
                layer = new LayerSpec(name, kind, Arg(0), Arg(1), 0, 1, 0, 1, NamedBool("Bias", true), location, numLayers);
                Require(layer.In > 0, "input_size", layer.In, "at least 1");
                Require(layer.Out > 0, "hidden_size", layer.Out, "at least 1");
                Require(numLayers > 0, "NumLayers", numLayers, "at least 1");
                if (!NamedBool("BatchFirst", true))
                {
                    diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                        $"{name}: the batch is always the first dimension in GraphCompiler (spans hold batch x sample), so {kind} needs BatchFirst = true; " +
                        "the sequence is the first dimension of each sample, [T, input_size]");
                }

                break;
            case LayerKind.Embedding:
                layer = new LayerSpec(name, kind, Arg(0), Arg(1), 0, 1, 0, 1, false, location);
                Require(layer.In > 0, "num_embeddings", layer.In, "at least 1");
                Require(layer.Out > 0, "embedding_dim", layer.Out, "at least 1");
                break;
            case LayerKind.PositionalEmbedding:
                layer = new LayerSpec(name, kind, Arg(0), Arg(1), 0, 1, 0, 1, false, location);
                Require(layer.In > 0, "max_length", layer.In, "at least 1");
                Require(layer.Out > 0, "dim", layer.Out, "at least 1");
                break;
            case LayerKind.LayerNorm:
                {
                    double eps = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Eps").Value.Value is double e ? e : 1e-5;
                    layer = new LayerSpec(name, kind, Arg(0), Arg(0), 0, 1, 0, 1, true, location, Real: eps);
                    Require(layer.In > 0, "normalized_shape", layer.In, "at least 1");
                    if (!(eps > 0))
                    {
                        diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location, $"{name}: LayerNorm Eps must be positive; got {eps}");
                    }

                    break;
                }

            case LayerKind.MultiheadAttention:
                {
                    double dropout = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Dropout").Value.Value is double d ? d : 0;
                    int heads = Arg(1);
                    layer = new LayerSpec(name, kind, Arg(0), Arg(0), 0, 1, 0, 1, NamedBool("Bias", true), location, Heads: heads, Real: dropout);
                    Require(layer.In > 0, "embed_dim", layer.In, "at least 1");
                    Require(heads > 0, "num_heads", heads, "at least 1");
                    if (heads > 0 && layer.In % heads != 0)
                    {
                        diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                            $"{name}: embed_dim ({layer.In}) must be divisible by num_heads ({heads}), as in PyTorch");
                    }

                    if (!(dropout >= 0 && dropout < 1))
                    {
                        diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location, $"{name}: MultiheadAttention Dropout must be in [0, 1); got {dropout}");
                    }

                    if (!NamedBool("BatchFirst", true))
                    {
                        diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                            $"{name}: the batch is always the first dimension in GraphCompiler, so MultiheadAttention needs BatchFirst = true; each sample is [length, embed_dim]");
                    }

                    break;
                }

            default:
                layer = new LayerSpec(name, kind, Arg(0), Arg(1), 0, 1, 0, 1, NamedBool("Bias", true), location);
                Require(layer.In > 0, "in_features", layer.In, "at least 1");
                Require(layer.Out > 0, "out_features", layer.Out, "at least 1");
                break;
        }

        // Sizes past what one workspace can address are diagnostics here, so no later stage overflows an int.
        long weights = layer.Kind switch
        {
            LayerKind.Conv2d => (long)layer.In * layer.Out * layer.Kernel * layer.Kernel,
            LayerKind.Linear => (long)layer.In * layer.Out,
            LayerKind.Lstm or LayerKind.Gru => 4L * layer.Out * ((long)layer.In + layer.Out) * layer.NumLayers,
            LayerKind.Embedding or LayerKind.PositionalEmbedding => (long)layer.In * layer.Out,
            LayerKind.MultiheadAttention => 4L * layer.In * layer.In,
            _ => 0,
        };
        if (weights > MaxElements || layer.Kernel > MaxExtent || layer.Stride > MaxExtent || layer.Padding > MaxExtent
            || layer.Dilation > MaxExtent || layer.NumLayers > MaxExtent)
        {
            diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                $"{name}: {kind} is too large for one model ({(weights > MaxElements ? $"{weights} weights; at most {MaxElements}" : $"kernel, stride, padding, dilation and layers are at most {MaxExtent}")})");
        }

        return layer;

        void Require(bool ok, string what, int value, string expected)
        {
            if (!ok)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                    $"{name}: {kind} {what} must be {expected}; got {value}");
            }
        }
    }

    /// <summary>A recurrent layer returns a tuple, so its member has its own delegate type; the others are a <c>Layer</c>.</summary>
    private static void CheckMemberType(ISymbol member, LayerSpec layer, LocationInfo? location, DiagnosticBag diagnostics)
    {
        ITypeSymbol? type = member switch
        {
            IFieldSymbol f => f.Type,
            IPropertySymbol p => p.Type,
            _ => null,
        };
        if (type is null || type.TypeKind == TypeKind.Error || type.ContainingNamespace?.ToDisplayString() != Namespace)
        {
            return;
        }

        string expected = layer.Kind switch
        {
            LayerKind.Lstm => "LstmLayer",
            LayerKind.Gru => "GruLayer",
            LayerKind.Embedding => "EmbeddingLayer",
            LayerKind.MultiheadAttention => "AttentionLayer",
            _ => "Layer",
        };
        bool delegateOfOurs = type.Name is "Layer" or "LstmLayer" or "GruLayer" or "EmbeddingLayer" or "AttentionLayer";
        if (delegateOfOurs && type.Name != expected)
        {
            diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location,
                $"{layer.Name}: a {layer.Kind} member is declared as {expected} (it is called as {CallExample(layer)}); change its type from {type.Name} to {expected}");
        }
    }

    private static string CallExample(LayerSpec layer) => layer.Kind switch
    {
        LayerKind.Lstm => $"var (output, (hn, cn)) = {layer.Name}(x)",
        LayerKind.Gru => $"var (output, hn) = {layer.Name}(x)",
        LayerKind.Embedding => $"{layer.Name}(tokens)",
        LayerKind.MultiheadAttention => $"{layer.Name}(q, k, v)",
        _ => $"{layer.Name}(x)",
    };

    private static ForwardSpec? ReadForward(
        INamedTypeSymbol type, Compilation compilation, ImmutableArray<LayerSpec> layers, ImmutableArray<ModuleMemberSpec> modules,
        DiagnosticBag diagnostics, CancellationToken cancellation, bool isModule)
    {
        IMethodSymbol[] forwards = type.GetMembers().OfType<IMethodSymbol>()
            .Where(m => m.GetAttributes().Any(a => a.AttributeClass?.Name == "ForwardAttribute"
                && a.AttributeClass.ContainingNamespace?.ToDisplayString() == Namespace))
            .ToArray();
        LocationInfo? classLocation = LocationInfo.From(type.Locations.FirstOrDefault());
        if (forwards.Length != 1)
        {
            diagnostics.Add(DiagnosticDescriptors.ForwardMethodCount,
                forwards.Length == 0 ? classLocation : LocationInfo.From(forwards[1].Locations.FirstOrDefault()),
                type.Name, forwards.Length == 0 ? "has no [Forward] method" : $"has {forwards.Length} [Forward] methods");
            return null;
        }

        IMethodSymbol method = forwards[0];
        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellation) as MethodDeclarationSyntax;
        if (syntax is null)
        {
            return null;
        }

        SemanticModel semantic = compilation.GetSemanticModel(syntax.SyntaxTree);
        var inputs = ImmutableArray.CreateBuilder<InputSpec>();
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            LocationInfo? location = LocationInfo.From(parameter.Locations.FirstOrDefault());
            InputKind inputKind = parameter.Type.Name switch
            {
                "Tokens" => InputKind.Tokens,
                "Mask" => InputKind.Mask,
                _ => InputKind.Tensor,
            };
            if (isModule)
            {
                // A module's inputs take their shapes from the call: no [Shape].
                inputs.Add(new InputSpec(parameter.Name, EquatableArray<int>.Empty, location, inputKind));
                continue;
            }

            if (inputKind == InputKind.Mask)
            {
                diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, location,
                    $"Input '{parameter.Name}': a model takes tensors and tokens; make the mask inside the forward method from a token input (var mask = {parameter.Name} == Pad;)");
                continue;
            }

            AttributeData? shape = parameter.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "ShapeAttribute");
            if (shape is null)
            {
                diagnostics.Add(DiagnosticDescriptors.MissingInputShape, location, parameter.Name);
                continue;
            }

            int[] dims = shape.ConstructorArguments.Length == 1 && shape.ConstructorArguments[0].Kind == TypedConstantKind.Array
                ? shape.ConstructorArguments[0].Values.Select(v => v.Value is int i ? i : 0).ToArray()
                : shape.ConstructorArguments.Select(v => v.Value is int i ? i : 0).ToArray();
            if (dims.Length == 0 || dims.Any(d => d <= 0))
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, LocationInfo.From(shape.ApplicationSyntaxReference?.GetSyntax(cancellation).GetLocation()),
                    $"Input '{parameter.Name}': a shape needs one or more dimensions, each at least 1 (the batch is not part of it)");
                continue;
            }

            if (dims.Aggregate(1L, (a, b) => a * b) > MaxElements)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, LocationInfo.From(shape.ApplicationSyntaxReference?.GetSyntax(cancellation).GetLocation()),
                    $"Input '{parameter.Name}': a sample of {dims.Aggregate(1L, (a, b) => a * b)} elements is too large for one model (at most {MaxElements})");
                continue;
            }

            if (inputKind == InputKind.Tokens && dims.Length != 1)
            {
                diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, LocationInfo.From(shape.ApplicationSyntaxReference?.GetSyntax(cancellation).GetLocation()),
                    $"Input '{parameter.Name}': a token input is one sequence per sample: [Shape(length)]");
                continue;
            }

            inputs.Add(new InputSpec(parameter.Name, dims.ToEquatableArray(), location, inputKind));
        }

        var reader = new ForwardBodyReader(semantic, layers, modules, diagnostics, cancellation);
        ImmutableArray<StatementSpec> statements = reader.Read(syntax);
        return new ForwardSpec(method.Name, inputs.ToEquatableArray(), statements.ToEquatableArray(),
            LocationInfo.From(syntax.Identifier.GetLocation()));
    }
}
