using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators;

[Generator(LanguageNames.CSharp)]
public sealed partial class ModelGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
