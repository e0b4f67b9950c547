"""The governance side of the demo world (QS 6, 7): licences, brands, certificates,
reviews, training, violation cases under appeal and key control, then a real re-grading.

Everything goes through the same services as the API, so grades, warnings, penalties and
their audit trails are what the rules make of the seeded data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    BrandRegistration,
    BrandRelation,
    CertificateKind,
    CertificateResult,
    CourseTopic,
    DepositPayment,
    LicenceKind,
    Merchant,
    MerchantLicence,
    Order,
    OrderState,
    Product,
    ViolationType,
)
from pinzhi.services import (
    certificates,
    jobs,
    monitoring,
    qualifications,
    reviews,
    training,
    violations,
)
from pinzhi.services.evidence import Evidence
from pinzhi.services.lookup import ids_of
from pinzhi.services.state import now
from pinzhi.services.violations import Decision

PRAISE = [
    "质量很好，宝宝很喜欢 / Great quality, the baby loves it",
    "做工精细，正品 / Fine work, genuine",
    "质量非常好，物流也快 / Very good quality, fast delivery",
    "还行吧 / It is fine",
]
COMPLAINT_TEXTS = [
    "质量不好，有异味 / Poor quality, smells",
    "质量一点也不好 / Not good quality at all",
    "一般般 / So-so",
]

COURSES = [
    ("QC-101", "质量控制基础 Quality control basics", CourseTopic.QUALITY_CONTROL, 70),
    ("SC-101", "供应链管理 Supply chain management", CourseTopic.SUPPLY_CHAIN, 70),
    ("CO-101", "电商合规 E-commerce compliance", CourseTopic.COMPLIANCE, 80),
    ("SV-101", "服务礼仪与消费者权益 Service and consumer rights", CourseTopic.SERVICE, 75),
]


@dataclass
class Cast:
    consumers: list[Viewer]
    merchants: list[Viewer]
    products: list[list[Product]]
    compliance: Viewer
    # (consumer index, merchant index, order id) of orders that may be reviewed
    completed: list[tuple[int, int, int]]


async def _credentials(cast: Cast) -> None:
    """Through the same submission and review as the API (QS 6.1.1): the baby shop is fully
    licensed with a registered brand; the food shop lacks its food licence, submitted and
    waiting for review; the beauty shop is authorised for one brand. Every shop paid its
    deposit, verified."""
    later = now() + timedelta(days=365)
    baby, food, beauty = cast.merchants
    scan = [Evidence("证照扫描件 / scanned document", "https://docs.demo.pinzhi/scan.pdf")]
    for merchant, kinds in (
        (baby, [LicenceKind.BUSINESS_LICENCE, LicenceKind.MOTHER_BABY_PERMIT]),
        (food, [LicenceKind.BUSINESS_LICENCE]),
        (beauty, [LicenceKind.BUSINESS_LICENCE, LicenceKind.COSMETICS_LICENCE]),
    ):
        for kind in kinds:
            licence = await qualifications.submit_licence(
                merchant, kind, f"{kind[:3]}-{merchant.merchant_id}", later, scan
            )
            await _verify(cast, MerchantLicence, licence.id)
    await qualifications.submit_licence(
        food, LicenceKind.FOOD_BUSINESS_LICENCE, f"JY-{food.merchant_id}", later, scan
    )
    for merchant, brand, relation, number in (
        (baby, "青禾", BrandRelation.REGISTERED, "TM-2026-0001"),
        (beauty, "雅致", BrandRelation.AUTHORISED, "AU-2026-0042"),
    ):
        registration = await qualifications.submit_brand(
            merchant, brand, relation, number, later, scan
        )
        await _verify(cast, BrandRegistration, registration.id)
    shops = [m.merchant_id for m in cast.merchants]
    await Merchant.filter(id__in=shops).update(deposit_required_minor=1000000)
    for merchant in cast.merchants:
        receipt = [Evidence("银行转账回单 / bank transfer slip", None)]
        payment = await qualifications.submit_deposit(
            merchant, 1000000, f"BANK-{merchant.merchant_id:04d}", receipt
        )
        await _verify(cast, DepositPayment, payment.id)


async def _verify(cast: Cast, model: type, submission_id: int) -> None:
    await qualifications.review(
        cast.compliance, model, submission_id, qualifications.Review.VERIFIED, "核验无误 / checked"
    )


async def _certificates(cast: Cast) -> None:
    """Inspections for key-category products (QS 7.1.2): the baby shop's pass; one food
    product failed its inspection."""
    issued, valid = now() - timedelta(days=30), now() + timedelta(days=335)
    baby_shop, food_shop = cast.merchants[0], cast.merchants[1]
    for product in cast.products[0]:
        for kind in (
            CertificateKind.THIRD_PARTY_INSPECTION,
            CertificateKind.INDUSTRY_CERTIFICATION,
            CertificateKind.SAFETY_COMPLIANCE,
            CertificateKind.ENVIRONMENTAL_COMPLIANCE,
        ):
            await certificates.record_certificate(
                baby_shop,
                product.id,
                kind,
                "国家母婴用品质量检验中心 National mother & baby inspection centre",
                f"R-{product.id}-{kind[:4]}",
                CertificateResult.PASS,
                issued,
                valid,
            )
    best = cast.products[0][0]
    for kind in (CertificateKind.NATIONAL_INSPECTION, CertificateKind.BRAND_AUTHORISATION):
        await certificates.record_certificate(
            baby_shop,
            best.id,
            kind,
            "国家质检中心 National inspection centre",
            f"R-{best.id}-{kind[:4]}",
            CertificateResult.PASS,
            issued,
            valid,
        )
    failed = cast.products[1][0]
    await certificates.record_certificate(
        food_shop,
        failed.id,
        CertificateKind.THIRD_PARTY_INSPECTION,
        "食品安全检测所 Food safety lab",
        f"R-{failed.id}-FAIL",
        CertificateResult.FAIL,
        issued,
        valid,
    )
    for product in cast.products[0]:
        await Product.filter(id=product.id).update(
            attributes={"brand": "青禾", "age_range": "0-3", "material": "PP"}
        )


async def _reviews(cast: Cast) -> int:
    received = set(
        await ids_of(
            Order.filter(id__in=[o for _, _, o in cast.completed], state=OrderState.COMPLETED)
        )
    )
    count = 0
    for n, (ci, mi, order_id) in enumerate(cast.completed):
        if order_id not in received:
            continue
        line_product = await Order.get(id=order_id).prefetch_related("lines")
        product_id = line_product.lines[0].product_id
        texts = PRAISE if mi == 0 else COMPLAINT_TEXTS
        rating = 5 if mi == 0 else 2 + n % 2
        await reviews.submit_review(
            cast.consumers[ci], order_id, product_id, rating, texts[n % len(texts)]
        )
        count += 1
    return count


async def _training(cast: Cast, admin: Viewer) -> None:
    courses = [
        await training.create_course(admin, code, title, topic, mark)
        for code, title, topic, mark in COURSES
    ]
    baby = cast.merchants[0]
    for course, score in zip(courses, (92, 85, 88, 90), strict=True):
        enrolment = await training.enrol(baby, course.id)
        await training.record_assessment(admin, enrolment.id, score)
    food = cast.merchants[1]
    enrolment = await training.enrol(food, courses[0].id)
    await training.record_assessment(admin, enrolment.id, 55)  # failed: may retake


async def _cases(cast: Cast) -> None:
    """QS 6.4: the food shop is under key control for a counterfeit case; the beauty shop
    appeals a false-advertising warning."""
    officer = cast.compliance
    food, beauty = cast.merchants[1], cast.merchants[2]
    counterfeit = await violations.open_case(
        officer,
        food.merchant_id,
        ViolationType.COUNTERFEIT,
        [Evidence("品牌方鉴定为假冒 / Brand owner found the tea counterfeit", None)],
    )
    await violations.decide_case(
        officer, counterfeit.id, Decision.DECIDED, note="鉴定报告属实 / Report confirmed"
    )
    advert = await violations.open_case(
        officer,
        beauty.merchant_id,
        ViolationType.FALSE_ADVERTISING,
        [Evidence("宣称“七天美白”无依据 / Unfounded 'whiter in 7 days' claim", None)],
    )
    await violations.decide_case(officer, advert.id, Decision.DECIDED, note="首次违规 / First case")
    await violations.appeal_case(
        beauty, advert.id, "已提供临床测试报告 / Clinical test report provided"
    )


async def seed(cast: Cast, progress: Callable[[str], None]) -> None:
    await _credentials(cast)
    await _certificates(cast)
    written = await _reviews(cast)
    await _training(cast, cast.compliance)
    await _cases(cast)
    progress(f"  governance: licences, certificates, {written} reviews, training, 2 cases")
    await monitoring.check()
    await jobs.run("regrade", progress=progress)
