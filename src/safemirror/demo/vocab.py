"""Word lists and weights the generator draws from: names, places, domains, models, networks.

Plain constants, no logic. Names are lowercase ASCII letters only, so that an email local
part built from (first name, separator, last name, number) can be parsed back unambiguously —
a test checks it — which is what makes every generated email unique.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES: tuple[str, ...] = _words(
    """
    james mary john patricia robert jennifer michael linda william elizabeth david barbara
    richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy
    matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew
    donna joshua michelle kenneth carol kevin amanda brian dorothy george melissa timothy
    deborah ronald stephanie edward rebecca jason sharon jeffrey laura ryan cynthia jacob kathleen
    gary amy nicholas angela eric shirley jonathan anna stephen brenda larry pamela justin emma
    scott nicole brandon helen benjamin samantha samuel katherine gregory christine alexander
    debra frank rachel patrick carolyn raymond janet jack catherine dennis maria jerry heather
    tyler diane aaron ruth jose julie adam olivia nathan joyce henry virginia douglas victoria
    zachary kelly peter lauren kyle christina ethan joan walter evelyn noah judith jeremy megan
    christian andrea keith cheryl roger hannah terry jacqueline gerald martha harold gloria sean
    teresa austin ann carl sara arthur madison lawrence frances dylan kathryn jesse janice jordan
    jean bryan abigail billy alice joe judy bruce sophia gabriel grace logan denise albert amber
    willie doris alan marilyn juan danielle wayne beverly elijah isabella randy theresa roy diana
    vincent natalie ralph brittany eugene charlotte russell marie bobby kayla mason alexis philip
    lori louis liam mia lucas ava oliver chloe elias lena jonas sofia mateo lucia hugo ines
    """
)

LAST_NAMES: tuple[str, ...] = _words(
    """
    smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
    gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
    sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
    flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
    evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
    gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
    watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
    sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell
    coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson
    alexander hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera
    gibson ellis tran medina aguilar stevens murray ford castro marshall owens harrison fernandez
    mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns
    crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt
    hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer
    rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant
    dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight
    elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado
    berry perkins hoffman johnston matthews pena richards willis carpenter lawrence sandoval
    muller schneider fischer weber becker dubois moreau laurent lefebvre rossi russo bianchi
    jansen dejong bakker novak kowalski nowak lindqvist berg obrien walsh byrne
    """
)

# fmt: off
SEPARATORS: tuple[str, ...] = (".", "_", "")

GLOBAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 46), ("yahoo.com", 12), ("hotmail.com", 8), ("icloud.com", 8),
    ("outlook.com", 7), ("aol.com", 3), ("comcast.net", 3), ("me.com", 2), ("live.com", 2),
    ("msn.com", 1), ("proton.me", 1),
)

LOCAL_DOMAINS: dict[str, tuple[str, ...]] = {
    "GB": ("btinternet.com", "sky.com", "hotmail.co.uk", "yahoo.co.uk"),
    "DE": ("gmx.de", "web.de", "t-online.de"),
    "FR": ("orange.fr", "free.fr", "laposte.net"),
    "CA": ("shaw.ca", "rogers.com", "sympatico.ca"),
    "AU": ("bigpond.com", "optusnet.com.au"),
    "IT": ("libero.it", "virgilio.it"),
    "NL": ("ziggo.nl", "kpnmail.nl"),
    "ES": ("telefonica.net",),
    "JP": ("docomo.ne.jp", "yahoo.co.jp"),
    "BR": ("uol.com.br", "bol.com.br"),
}

# (country, region or "", IANA timezone, weight). Weights are joint: country share × share
# of the region within the country. US regions are state codes weighted by population.
_US = """
CA 39.0 L; TX 30.0 C; FL 22.2 E; NY 19.6 E; PA 13.0 E; IL 12.5 C; OH 11.8 E; GA 11.0 E;
NC 10.8 E; MI 10.0 D; NJ 9.3 E; VA 8.7 E; WA 7.8 L; AZ 7.4 P; TN 7.1 C; MA 7.0 E; IN 6.8 I;
MO 6.2 C; MD 6.2 E; WI 5.9 C; CO 5.8 M; MN 5.7 C; SC 5.3 E; AL 5.1 C; LA 4.6 C; KY 4.5 E;
OR 4.2 L; OK 4.0 C; CT 3.6 E; UT 3.4 M; IA 3.2 C; NV 3.2 L; AR 3.0 C; MS 2.9 C; KS 2.9 C;
NM 2.1 M; NE 2.0 C; ID 1.9 B; WV 1.8 E; HI 1.4 H; NH 1.4 E; ME 1.4 E; MT 1.1 M; RI 1.1 E;
DE 1.0 E; SD 0.9 C; ND 0.8 C; AK 0.7 K; DC 0.7 E; VT 0.6 E; WY 0.6 M
"""
_US_TZ = {
    "L": "America/Los_Angeles", "C": "America/Chicago", "E": "America/New_York",
    "D": "America/Detroit", "P": "America/Phoenix", "I": "America/Indiana/Indianapolis",
    "M": "America/Denver", "B": "America/Boise", "H": "Pacific/Honolulu",
    "K": "America/Anchorage",
}
_OTHER = """
CA ON 39 America/Toronto; CA QC 22 America/Toronto; CA BC 14 America/Vancouver;
CA AB 12 America/Edmonton; CA MB 4 America/Winnipeg; CA SK 3 America/Regina;
CA NS 3 America/Halifax; CA NB 2 America/Halifax; CA NL 1 America/St_Johns;
GB ENG 84 Europe/London; GB SCT 8 Europe/London; GB WLS 5 Europe/London;
GB NIR 3 Europe/London;
DE BY 16 Europe/Berlin; DE NW 22 Europe/Berlin; DE BW 13 Europe/Berlin;
DE NI 10 Europe/Berlin; DE HE 8 Europe/Berlin; DE BE 5 Europe/Berlin; DE SN 5 Europe/Berlin;
DE HH 2 Europe/Berlin; DE - 19 Europe/Berlin;
AU NSW 32 Australia/Sydney; AU VIC 26 Australia/Melbourne; AU QLD 20 Australia/Brisbane;
AU WA 11 Australia/Perth; AU SA 7 Australia/Adelaide; AU TAS 2 Australia/Hobart;
AU ACT 2 Australia/Sydney;
FR - 1 Europe/Paris; NL - 1 Europe/Amsterdam; ES - 1 Europe/Madrid; IT - 1 Europe/Rome;
SE - 1 Europe/Stockholm; IE - 1 Europe/Dublin; PL - 1 Europe/Warsaw; BE - 1 Europe/Brussels;
MX - 1 America/Mexico_City; JP - 1 Asia/Tokyo; BR - 1 America/Sao_Paulo; IN - 1 Asia/Kolkata;
NZ - 1 Pacific/Auckland
"""
COUNTRY_SHARE: dict[str, float] = {
    "US": 0.62, "CA": 0.07, "GB": 0.055, "DE": 0.045, "FR": 0.035, "AU": 0.025, "NL": 0.015,
    "ES": 0.015, "IT": 0.015, "MX": 0.015, "SE": 0.01, "IE": 0.008, "PL": 0.008, "JP": 0.008,
    "BE": 0.007, "BR": 0.007, "IN": 0.007, "NZ": 0.004,
}

# fmt: on


def _places() -> tuple[tuple[str, str, str, float], ...]:
    rows: list[tuple[str, str, str, float]] = []
    for item in _US.replace("\n", " ").split(";"):
        state, pop, zone = item.split()
        rows.append(("US", state, _US_TZ[zone], float(pop)))
    for item in _OTHER.replace("\n", " ").split(";"):
        country, region, weight, zone = item.split()
        rows.append((country, "" if region == "-" else region, zone, float(weight)))
    totals: dict[str, float] = {}
    for row in rows:
        totals[row[0]] = totals.get(row[0], 0.0) + row[3]
    return tuple((c, r, tz, COUNTRY_SHARE[c] * w / totals[c]) for c, r, tz, w in rows)


PLACES: tuple[tuple[str, str, str, float], ...] = _places()

# fmt: off

CATEGORIES: tuple[str, ...] = ("camera", "bulb", "plug", "lock", "scale")
FIRST_DEVICE_MIX: tuple[float, ...] = (0.72, 0.08, 0.08, 0.04, 0.08)
LATER_DEVICE_MIX: tuple[float, ...] = (0.40, 0.22, 0.20, 0.08, 0.10)
EVENTS_PER_DAY: tuple[float, ...] = (0.030, 0.0096, 0.0096, 0.016, 0.0054)

# (model, category index, release year as a fraction, sales weight, base failure rate,
#  firmware major.minor, firmware versions shipped, indexes of the bad firmware versions)
MODELS: tuple[tuple[str, int, float, float, float, str, int, tuple[int, ...]], ...] = (
    ("Cam v1", 0, 2018.7, 1.0, 0.050, "4.9", 6, (2,)),
    ("Cam v2", 0, 2019.2, 3.0, 0.035, "4.9", 10, (4,)),
    ("Cam Pan", 0, 2019.9, 1.5, 0.045, "4.10", 9, ()),
    ("Cam v3", 0, 2021.1, 3.0, 0.030, "4.36", 9, (5,)),
    ("Cam Outdoor", 0, 2020.9, 1.5, 0.050, "4.17", 8, (3,)),
    ("Video Doorbell", 0, 2021.6, 1.5, 0.055, "4.25", 7, ()),
    ("Cam Pan v3", 0, 2023.2, 2.0, 0.030, "4.50", 5, (2,)),
    ("Cam v4", 0, 2024.4, 2.5, 0.025, "4.52", 4, ()),
    ("Bulb White", 1, 2019.6, 1.0, 0.020, "1.2", 6, ()),
    ("Bulb Color", 1, 2020.8, 1.5, 0.025, "1.3", 6, ()),
    ("Light Strip", 1, 2022.3, 1.0, 0.030, "1.4", 4, ()),
    ("Plug", 2, 2019.7, 2.0, 0.020, "1.2", 6, ()),
    ("Plug Outdoor", 2, 2021.4, 1.0, 0.040, "1.2", 5, (2,)),
    ("Lock", 3, 2020.2, 1.0, 0.030, "2.0", 6, ()),
    ("Lock Bolt", 3, 2022.9, 1.0, 0.025, "2.1", 4, ()),
    ("Scale S", 4, 2020.0, 1.0, 0.020, "3.1", 5, ()),
    ("Scale X", 4, 2023.5, 1.0, 0.020, "3.2", 3, ()),
)
BAD_FIRMWARE_FACTOR = 4.5

NICKNAMES: dict[int, tuple[str, ...]] = {
    0: (
        "Front Door", "Baby's Room", "Nursery", "Backyard", "Garage", "Driveway", "Living Room",
        "Kitchen", "Porch", "Back Door", "Side Gate", "Dog Cam", "Cat Cam", "Office", "Basement",
        "Bedroom", "Master Bedroom", "Kids Room", "Playroom", "Hallway", "Front Yard", "Patio",
        "Shed", "Crib Cam", "Guest Room", "Pool", "Barn", "Chicken Coop", "Den", "Stairs",
    ),
    1: (
        "Bedroom Lamp", "Living Room Light", "Porch Light", "Desk Lamp", "Nightstand", "Hallway",
        "Kitchen Light", "Nursery Light", "Reading Lamp", "Garage Light", "TV Backlight",
    ),
    2: (
        "Coffee Maker", "Christmas Tree", "Fan", "Space Heater", "Fish Tank", "TV", "Humidifier",
        "Lamp", "Kettle", "Air Purifier", "Porch Lights", "Sound Machine",
    ),
    3: ("Front Door", "Back Door", "Garage Door", "Side Door", "Front Door Lock", "Basement Door"),
    4: ("Scale", "Bathroom Scale", "My Scale"),
}
POSSESSIVE_SUFFIXES: dict[int, tuple[str, ...]] = {
    0: ("'s Room", "'s Crib", "'s Nursery", "'s Bedroom"),
    1: ("'s Lamp", "'s Room"),
    4: ("'s Scale",),
}

# Home Wi-Fi SSID templates: {dN} digits, {HN} upper hex, {hN} lower hex, {aN} letters and
# digits, {AN} upper letters and digits, {Last}/{First} the owner's names. Weights per market.
SSIDS: tuple[tuple[str, str, float], ...] = (
    ("NETGEAR{d2}", "US CA", 8), ("Linksys{d5}", "US CA", 4), ("TP-Link_{H4}", "*", 5),
    ("ATT{a7}", "US", 7), ("SpectrumSetup-{H2}", "US", 5), ("MySpectrumWiFi{h2}", "US", 4),
    ("Verizon_{A6}", "US", 5), ("CenturyLink{d4}", "US", 2), ("XFSETUP-{H4}", "US", 3),
    ("The {Last} Family", "US CA AU GB", 3), ("{Last} WiFi", "*", 4), ("{Last}Home", "*", 3),
    ("{First}'s Network", "*", 1), ("{Last}_5G", "*", 2), ("FBI Surveillance Van", "US CA", 0.5),
    ("Pretty Fly for a WiFi", "*", 0.5), ("Bill Wi the Science Fi", "*", 0.3),
    ("The LAN Before Time", "*", 0.3), ("Abraham Linksys", "US", 0.3), ("Wu-Tang LAN", "*", 0.3),
    ("BT-{A6}", "GB", 8), ("VM{d7}", "GB", 5), ("SKY{A5}", "GB", 4),
    ("FRITZ!Box 7590 {A2}", "DE", 9), ("Vodafone-{H4}", "DE GB ES IT", 5), ("o2-WLAN{d2}", "DE", 3),
    ("Livebox-{H4}", "FR ES PL", 8), ("Freebox-{H6}", "FR", 6), ("SFR_{H4}", "FR", 4),
    ("BELL{d3}", "CA", 6), ("Rogers{d4}", "CA", 3), ("Telstra{H4}", "AU", 6),
    ("Ziggo{d7}", "NL", 5), ("eir{d5}", "IE", 4), ("Telia-{H4}", "SE", 4),
    ("Proximus-Home-{H4}", "BE", 4), ("TIM-{d8}", "IT", 4), ("MOVISTAR_{H4}", "ES MX", 4),
    ("ASUS_{H2}", "*", 2), ("eero", "*", 1), ("Google Wifi", "*", 1),
)

LAN_PREFIXES: tuple[tuple[str, float], ...] = (
    ("192.168.1.", 40), ("192.168.0.", 20), ("10.0.0.", 12), ("192.168.86.", 8),
    ("192.168.68.", 5), ("192.168.178.", 4), ("192.168.50.", 3), ("10.0.1.", 3), ("192.168.2.", 5),
)

# First octets of public IPv4 space seen from residential ISPs (no private or reserved ones).
PUBLIC_FIRST_OCTETS: tuple[int, ...] = (
    24, 47, 50, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 107,
    108, 142, 162, 173, 174, 184, 2, 5, 31, 37, 46, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 89, 90, 91, 92, 93, 94, 95, 109, 151, 176, 178, 185, 188, 212, 213, 217, 49, 58,
    101, 110, 114, 121, 124, 1, 27, 36, 42, 60, 61, 103, 111, 112, 118, 119, 120, 122, 180,
)

MAC_OUIS: tuple[str, ...] = ("2C:AA:8E", "7C:78:B2", "D0:3F:27", "A4:DA:22", "80:48:2C", "F0:F5:BD")

ERROR_CODES: tuple[tuple[str, float], ...] = (
    ("ERR_TLS_HANDSHAKE", 25), ("ERR_DNS_LOOKUP", 15), ("ERR_WIFI_ASSOC", 20),
    ("ERR_AUTH_EXPIRED", 10), ("ERR_CLOUD_503", 12), ("ERR_STREAM_RESET", 18),
)

PLATFORMS: tuple[str, ...] = ("ios", "android", "web")
PROVIDERS: tuple[tuple[str, float], ...] = (
    ("alexa", 0.30), ("google_assistant", 0.17), ("ifttt", 0.05),
)
# fmt: on
