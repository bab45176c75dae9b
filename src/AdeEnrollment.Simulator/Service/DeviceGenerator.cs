using System.Globalization;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// Realistic, seeded device records of every family an ABM MDM server holds: 10-character serial numbers in Apple's alphabet (no vowels), current
/// models with their colours and capacities, and ABM-style descriptions ("IPHONE 15 PRO 256GB BLUE TITANIUM-USA").
/// </summary>
internal sealed class DeviceGenerator
{
    private const string SerialAlphabet = "0123456789BCDFGHJKLMNPQRTVWXYZ";

    private static readonly Model[] IPhones =
    [
        new("iPhone 16 Pro", "IPHONE 16 PRO", ["BLACK TITANIUM", "WHITE TITANIUM", "NATURAL TITANIUM", "DESERT TITANIUM"], [128, 256, 512]),
        new("iPhone 16", "IPHONE 16", ["BLACK", "WHITE", "PINK", "TEAL", "ULTRAMARINE"], [128, 256]),
        new("iPhone 15 Pro", "IPHONE 15 PRO", ["BLACK TITANIUM", "WHITE TITANIUM", "BLUE TITANIUM", "NATURAL TITANIUM"], [128, 256, 512]),
        new("iPhone 15", "IPHONE 15", ["BLACK", "BLUE", "GREEN", "YELLOW", "PINK"], [128, 256]),
        new("iPhone 14", "IPHONE 14", ["MIDNIGHT", "STARLIGHT", "BLUE", "PURPLE", "RED"], [128, 256]),
        new("iPhone 13", "IPHONE 13", ["MIDNIGHT", "STARLIGHT", "BLUE", "PINK", "GREEN"], [128, 256]),
        new("iPhone SE (3rd generation)", "IPHONE SE", ["MIDNIGHT", "STARLIGHT", "RED"], [64, 128]),
    ];

    private static readonly Model[] IPads =
    [
        new("iPad (10th generation)", "IPAD WI-FI", ["BLUE", "PINK", "YELLOW", "SILVER"], [64, 256]),
        new("iPad (9th generation)", "IPAD WI-FI", ["SPACE GRAY", "SILVER"], [64, 256]),
        new("iPad Air 11-inch (M2)", "IPAD AIR 11 WI-FI", ["SPACE GRAY", "STARLIGHT", "PURPLE", "BLUE"], [128, 256]),
        new("iPad Pro 11-inch (M4)", "IPAD PRO 11 WI-FI", ["SPACE BLACK", "SILVER"], [256, 512]),
        new("iPad mini (A17 Pro)", "IPAD MINI WI-FI", ["SPACE GRAY", "BLUE", "PURPLE", "STARLIGHT"], [128, 256]),
    ];

    private static readonly Model[] Macs =
    [
        new("MacBook Air (13-inch, M3, 2024)", "MACBOOK AIR 13 M3", ["MIDNIGHT", "STARLIGHT", "SPACE GRAY", "SILVER"], [256, 512]),
        new("MacBook Pro (14-inch, M4, 2024)", "MACBOOK PRO 14 M4", ["SPACE BLACK", "SILVER"], [512, 1024]),
        new("Mac mini (2024)", "MAC MINI M4", ["SILVER"], [256, 512]),
        new("iMac (24-inch, 2024)", "IMAC 24 M4", ["BLUE", "GREEN", "PINK", "SILVER"], [256, 512]),
    ];

    private static readonly Model[] AppleTvs =
    [
        new("Apple TV 4K (3rd generation)", "APPLE TV 4K WI-FI + ETHERNET", ["BLACK"], [128]),
        new("Apple TV 4K (2nd generation)", "APPLE TV 4K", ["BLACK"], [32, 64]),
    ];

    private static readonly Model[] VisionPros =
    [
        new("Apple Vision Pro", "APPLE VISION PRO", ["SILVER"], [256, 512, 1024]),
    ];

    private static readonly Model[] IPods =
    [
        new("iPod touch (7th generation)", "IPOD TOUCH", ["SPACE GRAY", "SILVER", "BLUE", "PINK"], [32, 128, 256]),
    ];

    /// <summary>Apple's device_family values the simulator makes, with the os each reports.</summary>
    public static readonly IReadOnlyList<string> Families = ["iPhone", "iPad", "iPod", "Mac", "AppleTV", "Vision"];

    private static readonly string[] Regions = ["USA", "USA", "USA", "GBR", "DEU", "FRA", "CAN"];

    private readonly Random random;

    public DeviceGenerator(int seed) => random = new Random(seed);

    private sealed record Model(string Name, string Label, string[] Colors, int[] Capacities);

    /// <summary>A new serial number not in <paramref name="taken"/>.</summary>
    public string NewSerial(Func<string, bool> taken)
    {
        Span<char> chars = stackalloc char[10];
        while (true)
        {
            chars[0] = SerialAlphabet[10 + random.Next(SerialAlphabet.Length - 10)]; // starts with a letter
            for (var i = 1; i < chars.Length; i++)
            {
                chars[i] = SerialAlphabet[random.Next(SerialAlphabet.Length)];
            }

            var serial = new string(chars);
            if (!taken(serial))
            {
                return serial;
            }
        }
    }

    /// <summary>
    /// A device of <paramref name="family"/>: iPhone, iPad, iPod, Mac, AppleTV or Vision; null for the 70/30 iPhone/iPad
    /// mix; "Mixed" for a fleet as an ABM MDM server holds it (mostly iPhones and iPads, with Macs, Apple TVs, a few
    /// Vision Pros and iPod touches).
    /// </summary>
    /// <summary>Refuses (ArgumentInvalid) a family the simulator does not make; null (iPhones and iPads) and Mixed are taken.</summary>
    public static void CheckFamily(string? family)
    {
        if (family is not null && !family.Equals("Mixed", StringComparison.OrdinalIgnoreCase) && !Families.Contains(family, StringComparer.OrdinalIgnoreCase))
        {
            throw SimErrors.ArgumentInvalid("DeviceFamily", family, $"the simulator makes {string.Join(", ", Families)} devices, or a Mixed fleet.");
        }
    }

    public AdeSimDevice NewDevice(string server, string serial, string? family, DateTimeOffset assignedAt, string assignedBy)
    {
        if (family is null)
        {
            family = random.Next(10) >= 7 ? "iPad" : "iPhone";
        }
        else if (family.Equals("Mixed", StringComparison.OrdinalIgnoreCase))
        {
            var roll = random.Next(100);
            family = roll switch { < 50 => "iPhone", < 72 => "iPad", < 90 => "Mac", < 96 => "AppleTV", < 99 => "Vision", _ => "iPod" };
        }

        family = Families.First(f => f.Equals(family, StringComparison.OrdinalIgnoreCase));
        var (models, os) = family switch
        {
            "iPad" => (IPads, "iPadOS"),
            "iPod" => (IPods, "iOS"),
            "Mac" => (Macs, "OSX"),
            "AppleTV" => (AppleTvs, "tvOS"),
            "Vision" => (VisionPros, "visionOS"),
            _ => (IPhones, "iOS"),
        };
        var model = models[random.Next(models.Length)];
        var color = model.Colors[random.Next(model.Colors.Length)];
        var capacity = model.Capacities[random.Next(model.Capacities.Length)];
        var region = Regions[random.Next(Regions.Length)];
        var assetTag = random.Next(10) < 3 ? "AT-" + random.Next(100000).ToString("D5", CultureInfo.InvariantCulture) : null;
        return new AdeSimDevice
        {
            Server = server,
            SerialNumber = serial,
            Model = model.Name,
            Description = string.Create(CultureInfo.InvariantCulture, $"{model.Label} {capacity}GB {color}-{region}"),
            Color = color,
            AssetTag = assetTag,
            DeviceFamily = family,
            Os = os,
            ProfileStatus = "empty",
            DeviceAssignedDate = assignedAt,
            DeviceAssignedBy = assignedBy,
        };
    }

    /// <summary>32 upper-case hex characters (Apple's profile UUIDs and server UUIDs).</summary>
    public string NewUuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return Convert.ToHexString(bytes);
    }

    /// <summary>Random hex for credentials and session tokens.</summary>
    public string NewHex(int bytes)
    {
        var buffer = new byte[bytes];
        random.NextBytes(buffer);
        return Convert.ToHexString(buffer);
    }

    public double NextDouble() => random.NextDouble();
}
