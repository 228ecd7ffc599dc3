using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Ops;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>The one op table: every <see cref="OpKind"/> has exactly one rule, filed under its own kind.</summary>
public class OpTableTests
{
    // By name: OpKind is internal to the generator, and a theory's parameters must be public.
    public static TheoryData<string> Kinds => [.. Enum.GetNames<OpKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_op_kind_has_a_rule_of_its_own_kind(string name)
    {
        OpKind kind = Enum.Parse<OpKind>(name);

        IOpRule rule = OpTable.Get(kind);

        Assert.NotNull(rule);
        Assert.Equal(kind, rule.Kind);
    }

    [Fact]
    public void The_table_holds_exactly_the_enum()
    {
        Assert.Equal(Enum.GetValues<OpKind>().Order(), OpTable.Kinds.Order());
    }
}
