using System.Collections;
using System.Management.Automation;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Lets -SerialNumber take what can be piped: rows of a CSV file (<c>-SerialNumber (Import-Csv serials.csv)</c>), device
/// objects and strings, each read for its serial number as a piped device is (<see cref="PipelineDevice"/>: the same
/// column names, the same SerialNumberMissing for a row without one). Without it PowerShell would turn a row into the
/// text '@{Serial Number=…}' and look for a device of that name.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SerialNumbersTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is null or string)
        {
            return inputData; // a serial, or nothing: as PowerShell binds it
        }

        var items = value is IEnumerable list and not IDictionary ? list.Cast<object?>() : [inputData];
        var serials = new List<string?>();
        foreach (var item in items)
        {
            var plain = item is PSObject wrapped ? wrapped.BaseObject : item;
            try
            {
                serials.Add(plain switch
                {
                    null => null,
                    string text => text,
                    ValueType number => LanguagePrimitives.ConvertTo<string>(number),
                    _ => PipelineDevice.SerialNumber(item!),
                });
            }
            catch (AdeException ex)
            {
                throw new ArgumentTransformationMetadataException(ex.Message, ex);
            }
        }

        return serials.ToArray();
    }
}
