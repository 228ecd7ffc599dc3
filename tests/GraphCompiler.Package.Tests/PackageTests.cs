using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Xunit;
using Xunit.Abstractions;

namespace GraphCompiler.Package.Tests;

/// <summary>
/// The one NuGet package as a user gets it: dotnet pack, then a new project that references only the package
/// from a local folder feed (its own package cache, so nothing of this repository leaks in) builds with
/// warnings as errors and runs a model the generator inside the package compiled.
/// </summary>
public sealed class PackageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("graphcompiler-package-").FullName;

    private static string Root([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));

    [Fact]
    public void A_project_built_against_the_package_compiles_a_model_and_runs_it()
    {
        string feed = Path.Combine(_work, "feed");
        Run("dotnet", $"pack \"{Path.Combine(Root(), "src", "GraphCompiler", "GraphCompiler.csproj")}\" -c Release -o \"{feed}\"", Root());
        string package = Directory.GetFiles(feed, "GraphCompiler.*.nupkg").Single();
        using (ZipArchive zip = ZipFile.OpenRead(package))
        {
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("lib/net10.0/GraphCompiler.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/GraphCompiler.Generators.dll", entries);
        }

        string version = Path.GetFileNameWithoutExtension(package)["GraphCompiler.".Length..];
        string app = Path.Combine(_work, "app");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{Path.Combine(_work, "packages")}</RestorePackagesPath>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GraphCompiler" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using GraphCompiler;
            using static GraphCompiler.Ops;

            var model = new Tiny(maxBatch: 2, seed: 3);
            float[] x = { 1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8 };
            float[] y = new float[2 * Tiny.OutputSize];
            model.Forward(x, y);
            Console.WriteLine($"outputs {Tiny.OutputSize}, sum {y.Sum():R}");
            Console.WriteLine(y.All(v => v > 0f && v < 1f) ? "softmax ok" : "softmax wrong");

            [Model]
            public partial class Tiny
            {
                [Linear(8, 5)] readonly Layer hidden;
                [Linear(5, 3)] readonly Layer head;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => Softmax(head(Tanh(hidden(x))));
            }
            """);
        // Directory.Build.props and central package management of this repository must not apply to the app.
        File.WriteAllText(Path.Combine(_work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(_work, "Directory.Packages.props"), "<Project />");

        string stdout = Run("dotnet", "run -c Release", app);

        Assert.Contains("outputs 3", stdout, StringComparison.Ordinal);
        Assert.Contains("softmax ok", stdout, StringComparison.Ordinal);
        string sum = stdout.Split("sum ")[1].Split('\n')[0].Trim();
        Assert.Equal(2.0, double.Parse(sum, System.Globalization.CultureInfo.InvariantCulture), 5);
    }

    private string Run(string file, string arguments, string directory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} did not finish in 5 minutes");
        }

        output.WriteLine($"$ {file} {arguments}\n{stdout.Result}{stderr.Result}");
        Assert.True(process.ExitCode == 0, $"{file} {arguments} exited with {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // a build server may still hold a file; the folder is in the temporary directory
        }
    }
}
