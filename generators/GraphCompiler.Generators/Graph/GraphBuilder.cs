using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Spec;

namespace GraphCompiler.Generators.Graph;

/// <summary>
/// Turns the forward statements of a spec into a dataflow graph by following the tensor locals, as a
/// symbolic execution. Shapes are left to shape inference.
/// </summary>
internal static class GraphBuilder
{
    public static ModelGraph? Build(ModelSpec spec, DiagnosticBag diagnostics)
    {
        if (spec.Forward is null)
        {
            return null;
        }

        var graph = new ModelGraph(spec);
        var layers = spec.Layers.ToDictionary(l => l.Name);
        var variables = new Dictionary<string, TensorValue>();
        foreach (InputSpec input in spec.Forward.Inputs)
        {
            TensorValue t = graph.NewTensor(input.Shape.ToArray());
            t.IsModelInput = true;
            t.InputName = input.Name;
            graph.Inputs.Add(t);
            variables[input.Name] = t;
        }

        foreach (StatementSpec statement in spec.Forward.Statements)
        {
            TensorValue? value = Evaluate(statement.Value);
            if (value is null)
            {
                return null;
            }

            if (statement.Target is null)
            {
                graph.Output = value;
                break;
            }

            variables[statement.Target] = value;
        }

        if (graph.Output is null)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, spec.Forward.Location,
                $"Forward method '{spec.Forward.MethodName}' must end with 'return <tensor>;'");
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

        if (graph.Inputs.Count != 1)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, spec.Forward.Location,
                $"Forward method '{spec.Forward.MethodName}' takes {graph.Inputs.Count} tensors; this version of GraphCompiler compiles models with exactly one input");
            return null;
        }

        return graph;

        TensorValue? Evaluate(ExprSpec expr)
        {
            switch (expr)
            {
                case VariableExpr v:
                    if (variables.TryGetValue(v.Name, out TensorValue? t))
                    {
                        return t;
                    }

                    diagnostics.Add(DiagnosticDescriptors.UnknownVariable, v.Location, v.Name);
                    return null;
                case LayerCallExpr call:
                    TensorValue? arg = Evaluate(call.Argument);
                    if (arg is null)
                    {
                        return null;
                    }

                    LayerSpec layer = layers[call.Layer];
                    OpKind kind = layer.Kind switch
                    {
                        LayerKind.Conv2d => OpKind.Conv2d,
                        LayerKind.MaxPool2d => OpKind.MaxPool2d,
                        LayerKind.AvgPool2d => OpKind.AvgPool2d,
                        _ => OpKind.Linear,
                    };
                    return AddNode(kind, layer, new[] { arg }, new int[0], call.Location);
                case RecurrentCallExpr call:
                    {
                        var callInputs = new List<TensorValue>();
                        foreach (ExprSpec e in new[] { call.Argument }.Concat(call.State))
                        {
                            TensorValue? input = Evaluate(e);
                            if (input is null)
                            {
                                return null;
                            }

                            callInputs.Add(input);
                        }

                        LayerSpec recurrent = layers[call.Layer];
                        return AddNode(recurrent.Kind == LayerKind.Lstm ? OpKind.Lstm : OpKind.Gru, recurrent, callInputs.ToArray(), new int[0], call.Location);
                    }

                case RecurrentPartExpr part:
                    {
                        TensorValue? sequence = Evaluate(part.Call);
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
                    var inputs = new List<TensorValue>();
                    foreach (ExprSpec e in f.Tensors)
                    {
                        TensorValue? input = Evaluate(e);
                        if (input is null)
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
                        _ => OpKind.Reshape,
                    };
                    return AddNode(op, null, inputs.ToArray(), f.Constants.ToArray(), f.Location);
                case BinaryExpr b:
                    TensorValue? left = Evaluate(b.Left);
                    TensorValue? right = left is null ? null : Evaluate(b.Right);
                    return right is null
                        ? null
                        : AddNode(b.Operator == '+' ? OpKind.Add : OpKind.Mul, null, new[] { left!, right }, new int[0], b.Location);
                default:
                    return null;
            }
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
