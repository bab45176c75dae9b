using System.Globalization;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// Realistic, seeded iPhone and iPad records: 10-character serial numbers in Apple's alphabet (no vowels), current
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

    /// <summary>A device of <paramref name="family"/> (iPhone, iPad, or null for a 70/30 mix).</summary>
    public AdeSimDevice NewDevice(string server, string serial, string? family, DateTimeOffset assignedAt, string assignedBy)
    {
        var isPad = family is null ? random.Next(10) >= 7 : family.Equals("iPad", StringComparison.OrdinalIgnoreCase);
        var models = isPad ? IPads : IPhones;
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
            DeviceFamily = isPad ? "iPad" : "iPhone",
            Os = isPad ? "iPadOS" : "iOS",
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
