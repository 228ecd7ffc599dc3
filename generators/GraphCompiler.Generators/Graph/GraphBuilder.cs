using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Spec;

namespace GraphCompiler.Generators.Graph;

/// <summary>
/// Turns the forward statements of a spec into a dataflow graph by following the tensor locals, as a
/// symbolic execution. Calls of <c>[Module]</c> members are inlined, their layers taking PyTorch's nested
/// names (<c>encoder.layers.0.self_attn</c>). Shapes are left to shape inference.
/// </summary>
internal static class GraphBuilder
{
    /// <summary>How deep modules may nest (a module holding itself is reported, not followed).</summary>
    private const int MaxDepth = 32;

    public static ModelGraph? Build(ModelSpec spec, DiagnosticBag diagnostics, EquatableArray<ModelSpec> modules = default)
    {
        if (spec.Forward is null)
        {
            return null;
        }

        var graph = new ModelGraph(spec);
        var moduleSpecs = new Dictionary<string, ModelSpec>();
        foreach (ModelSpec module in modules)
        {
            moduleSpecs[module.FullName] = module;
        }

        // Every layer of the model and of its modules, with full names, in declaration order.
        var layersByPath = new Dictionary<string, LayerSpec>();
        if (!Register(spec, "", new List<string>()))
        {
            return null;
        }

        var variables = new Dictionary<string, TensorValue>();
        foreach (InputSpec input in spec.Forward.Inputs)
        {
            TensorValue t = graph.NewTensor(input.Shape.ToArray());
            t.IsModelInput = true;
            t.InputName = input.Name;
            t.IsTokens = input.Kind == InputKind.Tokens;
            graph.Inputs.Add(t);
            variables[input.Name] = t;
        }

        graph.Output = Run(spec, "", variables, spec.Forward.Location, 0);
        if (graph.Output is null)
        {
            return null;
        }

        if (graph.Output.MaskTokens is not null || graph.Output.IsTokens)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, spec.Forward.Location,
                $"Forward method '{spec.Forward.MethodName}' must return a tensor of floats, not tokens or a mask");
            return null;
        }

        // h_n / c_n bound by a deconstruction and never read cost a copy per call: drop them.
        foreach (Node unread in graph.Nodes.Where(n => n.Kind == OpKind.RecurrentState && n.Output.Consumers.Count == 0 && n.Output != graph.Output).ToList())
        {
            graph.Nodes.Remove(unread);
            unread.Input.Consumers.Remove(unread);
            Node recurrent = unread.Input.Producer!;
            recurrent.StateReaders[System.Array.IndexOf(recurrent.StateReaders, unread)] = null;
        }

        if (graph.Inputs.Count == 0)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, spec.Forward.Location,
                $"Forward method '{spec.Forward.MethodName}' takes no input: declare one, e.g. [Shape(1, 28, 28)] Tensor x");
            return null;
        }

        if (graph.Inputs.Count > 1 && graph.Inputs.Any(i => !i.IsTokens))
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, spec.Forward.Location,
                $"Forward method '{spec.Forward.MethodName}' takes {graph.Inputs.Count} inputs; several inputs must all be token sequences (a Transformer's source and target), a float input must be the only one");
            return null;
        }

        return graph;

        // Registers the layers of a spec and, recursively, of its module members under the path prefix.
        bool Register(ModelSpec owner, string prefix, List<string> stack)
        {
            foreach (LayerSpec layer in owner.Layers)
            {
                LayerSpec full = layer.WithPrefix(prefix);
                layersByPath[full.Name] = full;
                graph.Layers.Add(full);
            }

            foreach (ModuleMemberSpec member in owner.Modules)
            {
                if (!moduleSpecs.TryGetValue(member.TypeName, out ModelSpec? module))
                {
                    diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, member.Location,
                        $"{member.Name}: the module class {member.TypeName} was not found among the [Module] classes of this project");
                    return false;
                }

                if (module.Diagnostics.Count > 0)
                {
                    return false; // reported at the module itself
                }

                if (stack.Contains(member.TypeName) || stack.Count >= MaxDepth)
                {
                    diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, member.Location,
                        $"{member.Name}: module {module.ClassName} contains itself (through {string.Join(" -> ", stack.Select(s => s.Split('.').Last()))}); modules must nest as a tree");
                    return false;
                }

                stack.Add(member.TypeName);
                for (int i = 0; i < System.Math.Max(member.Count, 1); i++)
                {
                    string path = prefix + member.Name + "." + (member.Count > 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." : "");
                    if (!Register(module, path, stack))
                    {
                        return false;
                    }
                }

                stack.RemoveAt(stack.Count - 1);
            }

            return true;
        }

        // Runs the statements of a forward method (the model's or an inlined module's); returns its result.
        TensorValue? Run(ModelSpec owner, string prefix, Dictionary<string, TensorValue> scope, LocationInfo? where, int depth)
        {
            foreach (StatementSpec statement in owner.Forward!.Statements)
            {
                TensorValue? value = Evaluate(statement.Value, owner, prefix, scope, depth);
                if (value is null)
                {
                    return null;
                }

                if (statement.Target is null)
                {
                    return value;
                }

                scope[statement.Target] = value;
            }

            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, owner.Forward.Location ?? where,
                $"Forward method '{owner.Forward.MethodName}' must end with 'return <tensor>;'");
            return null;
        }

        TensorValue? Evaluate(ExprSpec expr, ModelSpec owner, string prefix, Dictionary<string, TensorValue> scope, int depth)
        {
            TensorValue? Eval(ExprSpec e) => Evaluate(e, owner, prefix, scope, depth);
            LayerSpec Layer(string name) => layersByPath[prefix + name];
            switch (expr)
            {
                case VariableExpr v:
                    if (scope.TryGetValue(v.Name, out TensorValue? t))
                    {
                        return t;
                    }

                    diagnostics.Add(DiagnosticDescriptors.UnknownVariable, v.Location, v.Name);
                    return null;
                case LayerCallExpr call:
                    {
                        TensorValue? arg = Eval(call.Argument);
                        if (arg is null || !Floats(arg, call.Location))
                        {
                            return null;
                        }

                        LayerSpec layer = Layer(call.Layer);
                        OpKind kind = layer.Kind switch
                        {
                            LayerKind.Conv2d => OpKind.Conv2d,
                            LayerKind.MaxPool2d => OpKind.MaxPool2d,
                            LayerKind.AvgPool2d => OpKind.AvgPool2d,
                            LayerKind.LayerNorm => OpKind.LayerNorm,
                            LayerKind.PositionalEmbedding => OpKind.PositionalEmbedding,
                            _ => OpKind.Linear,
                        };
                        return AddNode(kind, layer, new[] { arg }, new int[0], call.Location);
                    }

                case EmbeddingCallExpr call:
                    {
                        TensorValue? tokens = Eval(call.Tokens);
                        if (tokens is null)
                        {
                            return null;
                        }

                        if (!tokens.IsTokens)
                        {
                            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, call.Location,
                                $"{call.Layer}: Embedding looks up integer tokens; pass a token input ([Shape(length)] Tokens src), not a tensor of floats");
                            return null;
                        }

                        return AddNode(OpKind.Embedding, Layer(call.Layer), new[] { tokens }, new int[0], call.Location);
                    }

                case MaskExpr mask:
                    {
                        TensorValue? tokens = Eval(mask.Tokens);
                        if (tokens is null)
                        {
                            return null;
                        }

                        if (!tokens.IsTokens)
                        {
                            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, mask.Location,
                                "A padding mask compares a token input with the pad token: var mask = src == Pad;");
                            return null;
                        }

                        var value = new TensorValue(-1, tokens.Shape) { MaskTokens = tokens, MaskPad = mask.Pad };
                        return value;
                    }

                case AttentionCallExpr call:
                    {
                        var inputs = new List<TensorValue>();
                        foreach (ExprSpec e in new[] { call.Query, call.Key, call.Value })
                        {
                            TensorValue? input = Eval(e);
                            if (input is null || !Floats(input, e.Location))
                            {
                                return null;
                            }

                            inputs.Add(input);
                        }

                        int pad = 0, masked = 0;
                        if (call.Mask is not null)
                        {
                            TensorValue? mask = Eval(call.Mask);
                            if (mask is null)
                            {
                                return null;
                            }

                            if (mask.MaskTokens is null)
                            {
                                diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, call.Mask.Location,
                                    "keyPaddingMask is a padding mask of a token input: keyPaddingMask: src == Pad");
                                return null;
                            }

                            inputs.Add(mask.MaskTokens);
                            pad = mask.MaskPad;
                            masked = 1;
                        }

                        return AddNode(OpKind.Attention, Layer(call.Layer), inputs.ToArray(), new[] { call.Causal ? 1 : 0, masked, pad }, call.Location);
                    }

                case ModuleCallExpr call:
                    {
                        ModuleMemberSpec member = owner.Modules.First(m => m.Name == call.Member);
                        ModelSpec module = moduleSpecs[member.TypeName];
                        if (module.Forward is null)
                        {
                            return null; // reported at the module
                        }

                        if (call.Arguments.Count != module.Forward.Inputs.Count)
                        {
                            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, call.Location,
                                $"{call.Member}: {module.ClassName}.{module.Forward.MethodName} takes {module.Forward.Inputs.Count} argument(s) ({string.Join(", ", module.Forward.Inputs.Select(i => i.Name))}); this call passes {call.Arguments.Count}");
                            return null;
                        }

                        var inner = new Dictionary<string, TensorValue>();
                        for (int i = 0; i < call.Arguments.Count; i++)
                        {
                            TensorValue? argument = Eval(call.Arguments[i]);
                            if (argument is null)
                            {
                                return null;
                            }

                            InputSpec parameter = module.Forward.Inputs[i];
                            InputKind kind = argument.MaskTokens is not null ? InputKind.Mask : argument.IsTokens ? InputKind.Tokens : InputKind.Tensor;
                            if (kind != parameter.Kind)
                            {
                                diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, call.Arguments[i].Location,
                                    $"{call.Member}: parameter '{parameter.Name}' of {module.ClassName}.{module.Forward.MethodName} is a {parameter.Kind}; a {kind} is passed");
                                return null;
                            }

                            inner[parameter.Name] = argument;
                        }

                        string path = prefix + member.Name + "." + (call.Index >= 0 ? call.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." : "");
                        return Run(module, path, inner, call.Location, depth + 1);
                    }

                case RecurrentCallExpr call:
                    {
                        var callInputs = new List<TensorValue>();
                        foreach (ExprSpec e in new[] { call.Argument }.Concat(call.State))
                        {
                            TensorValue? input = Eval(e);
                            if (input is null || !Floats(input, e.Location))
                            {
                                return null;
                            }

                            callInputs.Add(input);
                        }

                        LayerSpec recurrent = Layer(call.Layer);
                        return AddNode(recurrent.Kind == LayerKind.Lstm ? OpKind.Lstm : OpKind.Gru, recurrent, callInputs.ToArray(), new int[0], call.Location);
                    }

                case RecurrentPartExpr part:
                    {
                        TensorValue? sequence = Eval(part.Call);
                        if (sequence is null || part.Part == 0)
                        {
                            return sequence;
                        }

                        Node producer = sequence.Producer!;
                        if (producer.StateReaders[part.Part - 1] is { } existing)
                        {
                            return existing.Output;
                        }

                        TensorValue state = AddNode(OpKind.RecurrentState, producer.Layer, new[] { sequence }, new[] { part.Part - 1 }, part.Location);
                        producer.StateReaders[part.Part - 1] = state.Producer;
                        return state;
                    }

                case FunctionExpr f:
                    {
                        var inputs = new List<TensorValue>();
                        foreach (ExprSpec e in f.Tensors)
                        {
                            TensorValue? input = Eval(e);
                            if (input is null || !Floats(input, e.Location))
                            {
                                return null;
                            }

                            inputs.Add(input);
                        }

                        OpKind op = f.Function switch
                        {
                            "Relu" => OpKind.Relu,
                            "Tanh" => OpKind.Tanh,
                            "Sigmoid" => OpKind.Sigmoid,
                            "Softmax" => OpKind.Softmax,
                            "LogSoftmax" => OpKind.LogSoftmax,
                            "Flatten" => OpKind.Flatten,
                            "Select" => OpKind.Select,
                            "Gelu" => OpKind.Gelu,
                            "Dropout" => OpKind.Dropout,
                            "Scale" => OpKind.Scale,
                            "PositionalEncoding" => OpKind.PositionalEncoding,
                            _ => OpKind.Reshape,
                        };
                        if (op == OpKind.Dropout && f.Reals[0] == 0)
                        {
                            return inputs[0]; // Dropout(x, 0) is x
                        }

                        TensorValue result = AddNode(op, null, inputs.ToArray(), f.Constants.ToArray(), f.Location);
                        result.Producer!.Real = f.Reals.Count > 0 ? f.Reals[0] : 0;
                        return result;
                    }

                case BinaryExpr b:
                    {
                        TensorValue? left = Eval(b.Left);
                        TensorValue? right = left is null || !Floats(left, b.Left.Location) ? null : Eval(b.Right);
                        return right is null || !Floats(right, b.Right.Location)
                            ? null
                            : AddNode(b.Operator == '+' ? OpKind.Add : OpKind.Mul, null, new[] { left!, right }, new int[0], b.Location);
                    }

                default:
                    return null;
            }
        }

        // Tokens and masks only go where the ops that read them take them.
        bool Floats(TensorValue value, LocationInfo? location)
        {
            if (!value.IsTokens && value.MaskTokens is null)
            {
                return true;
            }

            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, location, value.IsTokens
                ? "Tokens are integers: look them up with an Embedding layer first (src_embed(src))"
                : "A padding mask is only read by attention: self_attn(q, k, v, keyPaddingMask: mask)");
            return false;
        }

        TensorValue AddNode(OpKind kind, LayerSpec? layer, TensorValue[] inputs, int[] constants, LocationInfo? location)
        {
            var node = new Node(graph.Nodes.Count, kind, layer, inputs, constants, location);
            TensorValue output = graph.NewTensor(new int[0]);
            output.Producer = node;
            node.Output = output;
            node.DeclaredOutput = output;
            foreach (TensorValue input in inputs)
            {
                input.Consumers.Add(node);
            }

            graph.Nodes.Add(node);
            return output;
        }
    }
}
