using System.Management.Automation;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Lets -Token / -Request take an object, an Id or a name: objects become their Id, so that a token renamed
/// meanwhile is still found. Strings pass through (name, wildcard or Id).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ReferenceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            AdeToken token => token.Id.ToString(),
            AdeTokenRequest request => request.Id.ToString(),
            AdeProfile profile => profile.Id.ToString(),
            Guid id => id.ToString(),
            object[] array => array.Select(item => Transform(engineIntrinsics, item)).ToArray(),
            _ => inputData,
        };
    }
}
