using System.Globalization;
using System.Text;
using GraphCompiler.Generators.Tests.Infrastructure;

namespace GraphCompiler.Generators.Tests.Properties;

/// <summary>
/// A printed declaration: its text and, for an invalid one, the span of the mistake and the diagnostic expected there.
/// </summary>
public sealed record WrittenModel(string ClassName, string Text, Microsoft.CodeAnalysis.Text.TextSpan? Mistake, string? ExpectedId, string What);

/// <summary>
/// Prints a <see cref="ResolvedModel"/> as a <c>[Model]</c> class, either as it is (valid) or with one
/// <see cref="Mutation"/> applied. A mutation the model has no site for (a conv mistake in a model without
/// convolutions) becomes a wrong Linear in-features, which every model can carry.
/// </summary>
public sealed class ModelWriter
{
    private readonly ResolvedModel _m;
    private readonly MutationKind? _kind;
    private readonly int _site;
    private readonly int _target;
    private readonly List<string> _members = [];
    private readonly List<string> _body = [];

    private ModelWriter(ResolvedModel model, Mutation? mutation)
    {
        _m = model;
        if (mutation is not null)
        {
            _target = mutation.Target;
            (_kind, _site) = Normalize(model, mutation);
        }
    }

    public static WrittenModel Write(ResolvedModel model, Mutation? mutation = null) => new ModelWriter(model, mutation).Write();

    /// <summary>The diagnostic a mutation gives, at the marked span.</summary>
    public static string ExpectedId(MutationKind kind) => kind switch
    {
        MutationKind.NonConstantArgument => "GC0002",
        MutationKind.UnknownCall or MutationKind.UnsupportedStatement => "GC0003",
        MutationKind.MissingShape => "GC0004",
        MutationKind.InvalidHyperparameter => "GC0008",
        MutationKind.UnknownVariable => "GC0009",
        _ => "GC0001",
    };

    /// <summary>The mutation as applied to this model: its kind and site index among the sites of that kind.</summary>
    private static (MutationKind, int) Normalize(ResolvedModel m, Mutation mutation)
    {
        int sites = mutation.Kind switch
        {
            MutationKind.ConvInChannels or MutationKind.LinearOnImage => m.Convs.Count,
            MutationKind.RecurrentInputSize => m.Recurrent is null ? 0 : 1,
            MutationKind.NonConstantArgument => NonConstantSites(m).Count,
            MutationKind.InvalidHyperparameter => HyperparameterSites(m).Count,
            MutationKind.IndexOutOfRange => m.Recurrent is { IndexReadout: true } ? 1 : 0,
            MutationKind.ReshapeSize => ReshapeSites(m).Count,
            MutationKind.LinearInFeatures => m.Dense.Count,
            _ => 1,
        };
        return sites > 0 ? (mutation.Kind, mutation.Target % sites) : Normalize(m, mutation with { Kind = Anywhere[mutation.Target % Anywhere.Length] });
    }

    /// <summary>Mistakes every model has a site for.</summary>
    private static readonly MutationKind[] Anywhere =
    [
        MutationKind.LinearInFeatures, MutationKind.NonConstantArgument, MutationKind.UnknownCall, MutationKind.UnknownVariable,
        MutationKind.UnsupportedStatement, MutationKind.InvalidHyperparameter, MutationKind.MissingShape,
    ];

    private static List<string> NonConstantSites(ResolvedModel m)
    {
        List<string> sites = ["head"];
        if (m.IsImage && m.Declaration.FlattenByReshape) sites.Add("flatten");
        if (m.Recurrent is { IndexReadout: true }) sites.Add("index");
        return sites;
    }

    private static List<string> HyperparameterSites(ResolvedModel m)
    {
        List<string> sites = [.. m.Convs.Select((_, i) => "conv" + i), .. m.Dense.Select((_, i) => "fc" + i)];
        sites.AddRange(m.Convs.Select((c, i) => (c, i)).Where(p => p.c.Pool is not null).Select(p => "pool" + p.i));
        if (m.Recurrent is not null) sites.Add("rnn");
        return sites;
    }

    private static List<string> ReshapeSites(ResolvedModel m)
    {
        var sites = new List<string>();
        if (m.Form is InputForm.FlatToImage or InputForm.FlatToSequence) sites.Add("input");
        if (m.IsImage && m.Declaration.FlattenByReshape) sites.Add("flatten");
        if (m.Recurrent is { Layer.Init: InitialState.FromInput }) sites.Add("h0");
        return sites;
    }

    private bool Is(MutationKind kind, int site = -1) => _kind == kind && (site < 0 || _site == site);

    private bool IsSite(MutationKind kind, List<string> sites, string name) => _kind == kind && sites[_site] == name;

    private static string Mark(string text, bool mark) => mark ? "[|" + text + "|]" : text;

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private int Delta => 1 + _target / 7 % 3;

    private WrittenModel Write()
    {
        string input = "x";
        if (_m.Form == InputForm.FlatToImage)
        {
            Declaration d = _m.Declaration;
            bool wrong = IsSite(MutationKind.ReshapeSize, ReshapeSites(_m), "input");
            _body.Add($"x = {Mark($"Reshape(x, -1, {d.Channels}, {d.Height}, {I(d.Width + (wrong ? Delta : 0))})", wrong)};");
        }

        if (_m.IsImage) WriteConvs();
        if (_m.Recurrent is not null) WriteRecurrent();
        WriteDense();
        WriteEnd();

        var text = new StringBuilder();
        text.AppendLine("[Model]");
        text.AppendLine($"public partial class {_m.ClassName}");
        text.AppendLine("{");
        foreach (string member in _members) text.AppendLine("    " + member);
        text.AppendLine();
        text.AppendLine("    [Forward]");
        string shape = $"[Shape({string.Join(", ", _m.InputShape.Select(I))})] ";
        text.AppendLine(Is(MutationKind.MissingShape) ? $"    Tensor Forward(Tensor {Mark(input, true)})" : $"    Tensor Forward({shape}Tensor {input})");
        text.AppendLine("    {");
        foreach (string statement in _body) text.AppendLine("        " + statement);
        text.AppendLine("    }");
        text.AppendLine("}");

        TestSource parsed = TestSource.Parse(text.ToString());
        return _kind is { } kind
            ? new WrittenModel(_m.ClassName, parsed.Text, parsed.Span.Span, ExpectedId(kind), $"{kind} (site {_site})")
            : new WrittenModel(_m.ClassName, parsed.Text, null, null, "valid");
    }

    private void WriteConvs()
    {
        List<string> hyper = HyperparameterSites(_m);
        for (int i = 0; i < _m.Convs.Count; i++)
        {
            ResolvedConv c = _m.Convs[i];
            bool wrongIn = Is(MutationKind.ConvInChannels, i);
            bool badStride = IsSite(MutationKind.InvalidHyperparameter, hyper, "conv" + i);
            string Attribute(bool primary)
            {
                int cin = c.In + (primary && wrongIn ? Delta : 0);
                int stride = primary && badStride ? 0 : c.Stride;
                string kernel = c.PositionalKernel ? $", {c.Kernel}" : $", Kernel = {c.Kernel}";
                string text = $"Conv2d({cin}, {c.Out}{kernel}, Stride = {stride}, Padding = {c.Padding}, Dilation = {c.Dilation}{(c.Bias ? "" : ", Bias = false")})";
                return "[" + Mark(text, primary && (wrongIn || badStride)) + "]";
            }

            _members.Add($"{Attribute(true)} readonly Layer conv{i};");
            if (c.Join != Join.None) _members.Add($"{Attribute(false)} readonly Layer conv{i}b;");
            _body.Add($"x = {Apply(c.Act, Joined($"conv{i}(x)", c.Join, $"conv{i}b(x)"))};");

            if (c.Pool is { } pool)
            {
                bool badPadding = IsSite(MutationKind.InvalidHyperparameter, hyper, "pool" + i);
                int padding = badPadding ? pool.Kernel / 2 + 1 : pool.Padding;
                string text = $"{(pool.Max ? "MaxPool2d" : "AvgPool2d")}({pool.Kernel}{(pool.Stride == 0 ? "" : $", Stride = {pool.Stride}")}{(padding == 0 ? "" : $", Padding = {padding}")})";
                _members.Add($"[{Mark(text, badPadding)}] readonly Layer pool{i};");
                _body.Add($"x = pool{i}(x);");
            }
        }

        if (Is(MutationKind.LinearOnImage))
        {
            return; // no flatten: the first linear layer is given the image
        }

        if (_m.Declaration.FlattenByReshape)
        {
            if (IsSite(MutationKind.NonConstantArgument, NonConstantSites(_m), "flatten"))
            {
                _members.Add($"static readonly int Features = {_m.Features};");
                _body.Add("x = Reshape(x, -1, [|Features|]);");
                return;
            }

            bool wrong = IsSite(MutationKind.ReshapeSize, ReshapeSites(_m), "flatten");
            _body.Add($"x = {Mark($"Reshape(x, -1, {_m.Features + (wrong ? Delta : 0)})", wrong)};");
        }
        else
        {
            _body.Add("x = Flatten(x);");
        }
    }

    private void WriteRecurrent()
    {
        ResolvedRecurrent r = _m.Recurrent!;
        RecurrentLayer l = r.Layer;
        if (_m.Form == InputForm.FlatToSequence)
        {
            bool wrong = IsSite(MutationKind.ReshapeSize, ReshapeSites(_m), "input");
            _body.Add($"x = {Mark($"Reshape(x, -1, {r.Steps}, {r.Features + (wrong ? Delta : 0)})", wrong)};");
        }

        bool wrongIn = Is(MutationKind.RecurrentInputSize);
        bool badHyper = IsSite(MutationKind.InvalidHyperparameter, HyperparameterSites(_m), "rnn");
        int layers = badHyper && _target % 2 == 0 ? 0 : l.Layers;
        string kind = l.Lstm ? "Lstm" : "Gru";
        string attribute = $"{kind}({r.Features + (wrongIn ? Delta : 0)}, {r.Hidden}"
            + (l.PositionalLayers ? $", {layers}" : layers == 1 && !badHyper ? "" : $", NumLayers = {layers}")
            + (l.Bias ? "" : ", Bias = false")
            + (badHyper && _target % 2 == 1 ? ", BatchFirst = false" : l.WriteBatchFirst ? ", BatchFirst = true" : "")
            + ")";
        _members.Add($"[{Mark(attribute, wrongIn || badHyper)}] readonly {kind}Layer rnn;");

        string state = "";
        if (l.Init == InitialState.FromInput)
        {
            int states = r.Layers * r.Hidden;
            _members.Add($"[Linear({r.Steps * r.Features}, {states})] readonly Layer hinit;");
            bool wrong = IsSite(MutationKind.ReshapeSize, ReshapeSites(_m), "h0");
            _body.Add($"var h0 = {Mark($"Reshape(Tanh(hinit(Flatten(x))), -1, {r.Layers}, {r.Hidden + (wrong ? Delta : 0)})", wrong)};");
            if (l.Lstm)
            {
                _members.Add($"[Linear({r.Steps * r.Features}, {states})] readonly Layer cinit;");
                _body.Add($"var c0 = Reshape(cinit(Flatten(x)), -1, {r.Layers}, {r.Hidden});");
            }

            state = l.Lstm ? ", (h0, c0)" : ", h0";
        }
        else if (l.Init == InitialState.Null)
        {
            state = ", null";
        }

        string call = $"rnn(x{state})";
        bool outOfRange = Is(MutationKind.IndexOutOfRange);
        bool nonConstant = IsSite(MutationKind.NonConstantArgument, NonConstantSites(_m), "index");
        string index = r.Readout is Readout.Last or Readout.FromEnd ? "^" + I(r.WrittenIndex) : I(r.WrittenIndex);
        if (outOfRange)
        {
            index = r.Readout is Readout.Last or Readout.FromEnd ? "^" + I(r.Steps + Delta) : _target % 2 == 0 ? I(r.Steps + Delta - 1) : I(-r.Steps - Delta);
        }

        if (nonConstant)
        {
            _members.Add($"static int Step = {r.WrittenIndex};");
            index = r.Readout is Readout.Last or Readout.FromEnd ? "[|^Step|]" : "[|Step|]";
        }

        if (r.Readout == Readout.OutputMember)
        {
            _body.Add($"x = {Mark($"{call}.Output[.., {index}]", outOfRange)};");
            return;
        }

        bool usesOutput = r.Readout is not (Readout.FlattenH or Readout.HPlusC);
        bool usesH = r.Readout is Readout.FlattenH or Readout.HPlusC;
        bool usesC = r.Readout == Readout.HPlusC && l.Lstm;
        string Name(string name, bool used) => used || !l.Discards ? name : "_";
        _body.Add(l.Lstm
            ? $"var ({Name("output", usesOutput)}, ({Name("hn", usesH)}, {Name("cn", usesC)})) = {call};"
            : $"var ({Name("output", usesOutput)}, {Name("hn", usesH)}) = {call};");
        string readout = r.Readout switch
        {
            Readout.FlattenOutput => "Flatten(output)",
            Readout.FlattenH => "Flatten(hn)",
            Readout.HPlusC => l.Lstm ? "Flatten(hn + cn)" : "Flatten(hn)",
            Readout.SelectCall => Mark($"Select(output, 1, {index})", outOfRange),
            Readout.IndexRest => Mark($"output[.., {index}, ..]", outOfRange),
            _ => Mark($"output[.., {index}]", outOfRange),
        };
        _body.Add($"x = {readout};");
    }

    private void WriteDense()
    {
        List<string> hyper = HyperparameterSites(_m);
        for (int i = 0; i < _m.Dense.Count; i++)
        {
            ResolvedDense l = _m.Dense[i];
            bool wrongIn = Is(MutationKind.LinearInFeatures, i);
            bool zeroOut = IsSite(MutationKind.InvalidHyperparameter, hyper, "fc" + i);
            string Attribute(bool primary)
            {
                string text = $"Linear({l.In + (primary && wrongIn ? Delta : 0)}, {(primary && zeroOut ? 0 : l.Out)}{(l.Bias ? "" : ", Bias = false")})";
                return "[" + Mark(text, primary && (wrongIn || zeroOut)) + "]";
            }

            _members.Add($"{Attribute(true)} readonly Layer fc{i};");
            if (l.Join != Join.None) _members.Add($"{Attribute(false)} readonly Layer fc{i}b;");
            string argument = "x";
            if (i == 0 && Is(MutationKind.UnknownCall))
            {
                _members.Add("static Tensor Normalize(Tensor t) => t;");
                argument = "[|Normalize(x)|]";
            }

            string primaryCall = Mark($"fc{i}({argument})", i == 0 && Is(MutationKind.LinearOnImage));
            _body.Add($"x = {Apply(l.Act, Joined(primaryCall, l.Join, $"fc{i}b(x)"))};");
        }
    }

    private void WriteEnd()
    {
        if (Is(MutationKind.UnknownVariable))
        {
            _members.Add("static readonly Tensor Offset = null!;");
            _body.Add("x = x + [|Offset|];");
        }

        if (Is(MutationKind.UnsupportedStatement))
        {
            _members.Add("const bool Deep = true;");
            _body.Add(_target % 2 == 0 ? "[|if (Deep) x = Relu(x);|]" : "[|while (Deep) x = Relu(x);|]");
        }

        if (IsSite(MutationKind.NonConstantArgument, NonConstantSites(_m), "head"))
        {
            _members.Add("static int Dim = -1;");
            _body.Add($"return {(_m.Head is Head.LogSoftmax or Head.LogSoftmaxDimOne ? "LogSoftmax" : "Softmax")}(x, [|Dim|]);");
            return;
        }

        _body.Add(_m.Head switch
        {
            Head.Softmax => "return Softmax(x);",
            Head.LogSoftmax => "return LogSoftmax(x);",
            Head.SoftmaxLastDim => "return Softmax(x, -1);",
            Head.LogSoftmaxDimOne => "return LogSoftmax(x, 1);",
            _ => "return x;",
        });
    }

    private static string Joined(string call, Join join, string twin) => join switch
    {
        Join.Add => $"{call} + {twin}",
        Join.Mul => $"{call} * {twin}",
        _ => call,
    };

    private static string Apply(Act act, string expression) => act == Act.None ? expression : $"{act}({expression})";
}
