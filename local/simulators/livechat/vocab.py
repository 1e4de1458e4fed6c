"""Built-in word lists for the generator (no Faker: deterministic and dependency-free)."""

from __future__ import annotations

FIRST_NAMES = (
    "Anna",
    "John",
    "Maria",
    "Peter",
    "Laura",
    "David",
    "Sofia",
    "James",
    "Emma",
    "Lukas",
    "Olivia",
    "Noah",
    "Mia",
    "Liam",
    "Ella",
    "Mateo",
    "Chloe",
    "Ethan",
    "Grace",
    "Oscar",
)
LAST_NAMES = (
    "Smith",
    "Kowalski",
    "Garcia",
    "Müller",
    "Rossi",
    "Johnson",
    "Novak",
    "Brown",
    "Dubois",
    "Nielsen",
    "Silva",
    "Taylor",
    "Jensen",
    "Wilson",
    "Martin",
    "Moore",
    "Clark",
    "Walker",
)
# Accents, CJK, RTL scripts and emoji: names a sync must carry through unchanged.
UNICODE_NAMES = (
    "José Ñúñez",
    "Zoë Ångström",
    "François Lefèvre",
    "Łukasz Żółć",
    "Søren Kierkegård",
    "王小明",
    "佐藤 花子",
    "김민수",
    "محمد العلي",
    "דוד כהן",
    "Ana 🚀 Lima",
    "😀 Smile",
    "Ǹgọ́zí Ọ̀kọ́nkwọ́",
    "Ελένη Παπαδοπούλου",
    "Дмитрий Иванов",
)
# Markup, injection attempts, control and bidi characters, a huge value.
HOSTILE_STRINGS = (
    "<script>alert('x')</script>",
    '<b>Bold</b> &amp; <i>italic</i> <a href="javascript:alert(1)">click</a>',
    "Robert'); DROP TABLE leads;--",
    "ctrl\x00chars\x07here\x1b[31m\r\n",
    "\u202eevil-rtl-override\u202c",
    "zero\u200bwidth\ufeff",
    "{{7*7}} ${jndi:ldap://127.0.0.1/a}",
    '=HYPERLINK("http://127.0.0.1","csv")',
)
HUGE_LENGTH = 10 * 1024

AGENT_NAMES = ("Alice Agent", "Bob Support", "Carol Sales", "Dan Helpdesk", "Eve Success")
AGENT_DOMAIN = "support.example.com"
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.io")
INVALID_EMAILS = ("not-an-email", "a@", "@example.com", "john smith@example.com", "x@y", "")

# (country, country_code, region, city, timezone, latitude, longitude); LiveChat sends
# coordinates as strings.
PLACES = (
    ("Poland", "PL", "Mazowieckie", "Warsaw", "Europe/Warsaw", "52.2297", "21.0122"),
    (
        "United States",
        "US",
        "California",
        "San Francisco",
        "America/Los_Angeles",
        "37.7749",
        "-122.4194",
    ),
    ("United States", "US", "New York", "New York", "America/New_York", "40.7128", "-74.0060"),
    ("Germany", "DE", "Berlin", "Berlin", "Europe/Berlin", "52.5200", "13.4050"),
    ("France", "FR", "Île-de-France", "Paris", "Europe/Paris", "48.8566", "2.3522"),
    ("Japan", "JP", "Tokyo", "東京", "Asia/Tokyo", "35.6762", "139.6503"),
    ("Brazil", "BR", "São Paulo", "São Paulo", "America/Sao_Paulo", "-23.5505", "-46.6333"),
    ("Israel", "IL", "Tel Aviv", "תל אביב", "Asia/Jerusalem", "32.0853", "34.7818"),
    ("India", "IN", "Karnataka", "Bengaluru", "Asia/Kolkata", "12.9716", "77.5946"),
    ("Australia", "AU", "New South Wales", "Sydney", "Australia/Sydney", "-33.8688", "151.2093"),
)
REFERRERS = (
    "https://www.google.com/",
    "https://www.bing.com/search?q=crm+sync",
    "https://duckduckgo.com/",
    "https://www.linkedin.com/feed/",
    "https://news.example.com/article?id=42&utm_source=x",
)
PAGES = (
    ("https://shop.example.com/", "Home"),
    ("https://shop.example.com/pricing", "Pricing"),
    ("https://shop.example.com/features", "Features"),
    ("https://shop.example.com/contact", "Contact us"),
    ("https://shop.example.com/blog/leads", "Blog: five ways to get leads"),
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
CUSTOMER_LINES = (
    "Hi, I have a question about pricing.",
    "Do you ship to Europe?",
    "Can I get a demo?",
    "My order has not arrived yet.",
    "Is there a discount for nonprofits?",
    "Thanks!",
    "How do I reset my password?",
    "¿Hablan español?",
    "请问有中文客服吗\uff1f",
)
AGENT_LINES = (
    "Hello! How can I help you today?",
    "Sure, let me check that for you.",
    "Could you leave your e-mail so we can follow up?",
    "Is there anything else?",
    "Have a great day!",
)
TAGS = ("sales", "support", "pricing", "demo", "billing", "vip", "spam", "follow-up")
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises")
DEPARTMENTS = ("Sales", "Support", "Billing")
SESSION_KEYS = ("plan", "utm_source", "utm_campaign", "cart_value", "logged_in")
