using System.Runtime.CompilerServices;

// The checkpoint tests inject a failing stream between the writer and the file (SafeTensors.Write's internal overload).
[assembly: InternalsVisibleTo("GraphCompiler.Tests")]
