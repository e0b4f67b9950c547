"""Coded business errors, a leaf module every layer may import (auth and services raise
them; the schema turns them into payload errors).

Every code has a message in Chinese and English; the schema exposes the codes as an enum,
so a client can branch on the code and show the message in the user's language.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_TOKEN = "INVALID_TOKEN"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    MIXED_MERCHANTS = "MIXED_MERCHANTS"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    ALREADY_PAID = "ALREADY_PAID"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    WRONG_PROVIDER_KIND = "WRONG_PROVIDER_KIND"
    TRACKING_NUMBER_TAKEN = "TRACKING_NUMBER_TAKEN"
    PROMISE_OUT_OF_RANGE = "PROMISE_OUT_OF_RANGE"
    SCORE_OUT_OF_RANGE = "SCORE_OUT_OF_RANGE"
    FEEDBACK_EXISTS = "FEEDBACK_EXISTS"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    RULE_MISSING = "RULE_MISSING"
    PENALTY_NOT_IN_LADDER = "PENALTY_NOT_IN_LADDER"
    APPEAL_CLOSED = "APPEAL_CLOSED"
    APPEAL_EXISTS = "APPEAL_EXISTS"
    KEY_CONTROL_RESTRICTION = "KEY_CONTROL_RESTRICTION"
    LISTING_FROZEN = "LISTING_FROZEN"
    COURSE_NOT_FOUND = "COURSE_NOT_FOUND"
    COURSE_CODE_TAKEN = "COURSE_CODE_TAKEN"
    ENROLMENT_EXISTS = "ENROLMENT_EXISTS"
    REVIEW_EXISTS = "REVIEW_EXISTS"
    INVALID_VALIDITY = "INVALID_VALIDITY"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"
    NAME_TAKEN = "NAME_TAKEN"
    INVALID_PERIOD = "INVALID_PERIOD"
    MERCHANT_SUSPENDED = "MERCHANT_SUSPENDED"
    AMOUNT_NOT_REFUNDABLE = "AMOUNT_NOT_REFUNDABLE"
    REQUEST_EXISTS = "REQUEST_EXISTS"
    KIND_NOT_ALLOWED = "KIND_NOT_ALLOWED"
    REQUEST_CLOSED = "REQUEST_CLOSED"
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    INVALID_MONTH = "INVALID_MONTH"
    # Bulky goods: installation and trade-in (QS 9.7.5)
    NOT_BULKY = "NOT_BULKY"
    INSTALLATION_NOT_OFFERED = "INSTALLATION_NOT_OFFERED"
    INVALID_SLOT = "INVALID_SLOT"
    SLOT_OUT_OF_RANGE = "SLOT_OUT_OF_RANGE"
    APPOINTMENT_EXISTS = "APPOINTMENT_EXISTS"
    RESCHEDULE_CLOSED = "RESCHEDULE_CLOSED"
    VISIT_NOT_DUE = "VISIT_NOT_DUE"
    NOT_DELIVERED = "NOT_DELIVERED"
    TRADE_IN_NOT_ACCEPTED = "TRADE_IN_NOT_ACCEPTED"
    TRADE_IN_EXISTS = "TRADE_IN_EXISTS"
    TRADE_IN_TOO_LATE = "TRADE_IN_TOO_LATE"
    # Advance-compensation fund (QS 9.7.6)
    FUND_INSUFFICIENT = "FUND_INSUFFICIENT"
    CLAIM_ALREADY_PAID = "CLAIM_ALREADY_PAID"
    PAYOUT_LIMIT_EXCEEDED = "PAYOUT_LIMIT_EXCEEDED"
    DEPOSIT_INSUFFICIENT = "DEPOSIT_INSUFFICIENT"
    ALREADY_CORRECTED = "ALREADY_CORRECTED"
    DISPUTE_EXISTS = "DISPUTE_EXISTS"
    NOT_DISPUTABLE = "NOT_DISPUTABLE"
    DISPUTE_CLOSED = "DISPUTE_CLOSED"
    OFFER_NOT_LIVE = "OFFER_NOT_LIVE"
    SETTLEMENT_PERIOD_OPEN = "SETTLEMENT_PERIOD_OPEN"
    SETTLEMENT_PERIOD_OVER = "SETTLEMENT_PERIOD_OVER"
    COMPENSATION_ABOVE_LIMIT = "COMPENSATION_ABOVE_LIMIT"
    # The phone queue (QS 9.2.2)
    CALL_BATCH_SIZE = "CALL_BATCH_SIZE"
    EVENT_TIME_OUT_OF_RANGE = "EVENT_TIME_OUT_OF_RANGE"
    CALL_AGENT_INVALID = "CALL_AGENT_INVALID"
    CALL_EVENT_CONFLICT = "CALL_EVENT_CONFLICT"
    INVALID_DAY_RANGE = "INVALID_DAY_RANGE"

    # Customer-service chat (QS 9.2.2, 9.7.2)
    SESSION_CLOSED = "SESSION_CLOSED"
    TOO_MANY_OPEN_SESSIONS = "TOO_MANY_OPEN_SESSIONS"
    AGENT_AT_CAPACITY = "AGENT_AT_CAPACITY"
    SERVICE_QUEUE_EMPTY = "SERVICE_QUEUE_EMPTY"
    AGENT_UNAVAILABLE = "AGENT_UNAVAILABLE"
    NOT_SESSION_PARTY = "NOT_SESSION_PARTY"
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    NOT_STAFF_MEMBER = "NOT_STAFF_MEMBER"
    STAFF_DUTY_MISSING = "STAFF_DUTY_MISSING"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    STAFF_PROFILE_MISSING = "STAFF_PROFILE_MISSING"
    TRAINING_MISSING = "TRAINING_MISSING"
    LAW_ASSESSMENT_MISSING = "LAW_ASSESSMENT_MISSING"
    EXPERIENCE_SHORT = "EXPERIENCE_SHORT"
    POST_ALREADY_HELD = "POST_ALREADY_HELD"
    POST_ENDED = "POST_ENDED"
    NOT_ON_POST = "NOT_ON_POST"
    SELF_ASSESSMENT = "SELF_ASSESSMENT"
    SELF_ASSIGNMENT = "SELF_ASSIGNMENT"


MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.INVALID_INPUT: ("输入无效", "The input is invalid"),
    ErrorCode.NOT_FOUND: ("对象不存在", "No such object"),
    ErrorCode.INVALID_CREDENTIALS: ("邮箱或密码错误", "Wrong email or password"),
    ErrorCode.EMAIL_TAKEN: ("该邮箱已注册", "This email is already registered"),
    ErrorCode.WEAK_PASSWORD: ("密码至少 10 个字符", "The password needs at least 10 characters"),
    ErrorCode.INVALID_TOKEN: ("令牌无效或已过期", "The token is invalid or expired"),
    ErrorCode.INVALID_QUANTITY: ("数量必须在 1 到 999 之间", "Quantity must be from 1 to 999"),
    ErrorCode.INSUFFICIENT_STOCK: ("库存不足", "Not enough stock"),
    ErrorCode.PRODUCT_UNAVAILABLE: ("商品已下架", "The product is not on sale"),
    ErrorCode.MIXED_MERCHANTS: (
        "一个订单只能包含同一商家的商品",
        "One order may hold products of one merchant only",
    ),
    ErrorCode.TOO_MANY_LINES: ("订单行过多", "Too many order lines"),
    ErrorCode.ILLEGAL_TRANSITION: ("当前状态不允许此操作", "Not allowed in the current state"),
    ErrorCode.ALREADY_PAID: ("订单已支付", "The order is already paid"),
    ErrorCode.PAYMENT_IN_PROGRESS: (
        "该订单已有一笔待确认的支付",
        "A payment for this order is already pending",
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "该幂等键已用于另一请求，参数不同",
        "This idempotency key was used for a request with other parameters",
    ),
    ErrorCode.WRONG_PROVIDER_KIND: ("服务商类型不符", "The provider is of the wrong kind"),
    ErrorCode.TRACKING_NUMBER_TAKEN: ("运单号已被使用", "This tracking number is in use"),
    ErrorCode.PROMISE_OUT_OF_RANGE: (
        "承诺办结时间须在将来且不超过规则上限",
        "The promised date must be in the future and within the rule's limit",
    ),
    ErrorCode.SCORE_OUT_OF_RANGE: ("分数超出允许范围", "The score is out of the allowed range"),
    ErrorCode.FEEDBACK_EXISTS: ("已评价过该对象", "You have already rated this"),
    ErrorCode.NOT_ELIGIBLE: ("不具备执行此操作的资格", "You are not eligible to do this"),
    ErrorCode.RULE_MISSING: ("平台规则缺失", "A platform rule is missing"),
    ErrorCode.PENALTY_NOT_IN_LADDER: (
        "处罚不符合规则规定的处罚阶梯",
        "The penalty is not the step the rule's penalty ladder gives",
    ),
    ErrorCode.APPEAL_CLOSED: ("申诉期限已过", "The appeal deadline has passed"),
    ErrorCode.APPEAL_EXISTS: ("该案件已申诉过", "This case has already been appealed"),
    ErrorCode.KEY_CONTROL_RESTRICTION: (
        "重点管控期间不得在重点类目上架商品",
        "Under key control, products in key categories cannot be listed",
    ),
    ErrorCode.LISTING_FROZEN: (
        "处罚生效期间不得上架新商品",
        "New listings are blocked while a penalty is in force",
    ),
    ErrorCode.COURSE_NOT_FOUND: ("课程不存在", "No such course"),
    ErrorCode.COURSE_CODE_TAKEN: ("课程代码已被使用", "This course code is in use"),
    ErrorCode.ENROLMENT_EXISTS: ("已报名该课程", "Already enrolled in this course"),
    ErrorCode.REVIEW_EXISTS: (
        "该订单中的此商品已评价过",
        "You have already reviewed this product of this order",
    ),
    ErrorCode.INVALID_VALIDITY: (
        "日期无效：须带时区，签发不晚于今天，到期须晚于签发与今天",
        "Invalid dates: with a timezone, issued no later than today, expiring after issue and "
        "after today",
    ),
    ErrorCode.NAME_TAKEN: ("该名称已被使用", "This name is already in use"),
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    ErrorCode.INVALID_MONTH: ("月份无效：格式应为 YYYY-MM", "Invalid month: written YYYY-MM"),
    ErrorCode.CONCURRENT_CHANGE: (
        "同时有其他操作修改了相同数据，请重试",
        "Another change to the same data happened at the same time; please retry",
    ),
    ErrorCode.MERCHANT_SUSPENDED: (
        "该商家被暂停经营，暂不接受新订单",
        "This merchant is suspended and takes no new orders",
    ),
    ErrorCode.INVALID_PERIOD: (
        "时段无效：应为 UTC 整点小时，格式 YYYY-MM-DDTHH",
        "Invalid period: an hour in UTC, written YYYY-MM-DDTHH",
    ),
    # Bulky goods: installation and trade-in (QS 9.7.5)
    ErrorCode.NOT_BULKY: (
        "该商品不属于大件商品（家具、大家电等）",
        "This product is not a bulky good (furniture, large appliances)",
    ),
    ErrorCode.INSTALLATION_NOT_OFFERED: (
        "该品类不提供送装一体服务",
        "Delivery with installation is not offered for this category",
    ),
    ErrorCode.INVALID_SLOT: (
        "预约时段不是规则规定的时段",
        "The slot is not one of the slots the rule offers",
    ),
    ErrorCode.SLOT_OUT_OF_RANGE: (
        "预约时段不在可预约的时间范围内",
        "The slot is outside the time in which it may be booked",
    ),
    ErrorCode.APPOINTMENT_EXISTS: (
        "该商品已有进行中的安装预约",
        "This order line already has an active installation appointment",
    ),
    ErrorCode.RESCHEDULE_CLOSED: (
        "已过改约截止时间，或改约次数已用完",
        "Past the rescheduling cut-off, or no reschedules left",
    ),
    ErrorCode.VISIT_NOT_DUE: ("预约时段尚未开始", "The appointment's slot has not begun"),
    ErrorCode.NOT_DELIVERED: ("商品尚未送达", "The goods have not been delivered yet"),
    ErrorCode.TRADE_IN_NOT_ACCEPTED: (
        "该品类不支持以旧换新",
        "Trade-in is not accepted for this category",
    ),
    ErrorCode.TRADE_IN_EXISTS: (
        "该商品已有进行中的以旧换新",
        "This order line already has an active trade-in",
    ),
    ErrorCode.TRADE_IN_TOO_LATE: (
        "以旧换新须在付款后、送达前申请",
        "A trade-in is asked after payment and before delivery",
    ),
    ErrorCode.AMOUNT_NOT_REFUNDABLE: (
        "金额超过可退金额（已付减已退）",
        "The amount is above what can be refunded (paid less refunded)",
    ),
    ErrorCode.REQUEST_EXISTS: (
        "这些商品已有进行中的售后申请",
        "These lines already have an open after-sales request",
    ),
    ErrorCode.KIND_NOT_ALLOWED: (
        "订单当前状态不能申请这种售后",
        "This kind of after-sales request is not open to the order in its state",
    ),
    ErrorCode.REQUEST_CLOSED: ("售后申请已结束", "The after-sales request is closed"),
    # Advance-compensation fund (QS 9.7.6)
    ErrorCode.FUND_INSUFFICIENT: (
        "先行赔付基金余额不足",
        "The advance-compensation fund does not hold enough",
    ),
    ErrorCode.CLAIM_ALREADY_PAID: (
        "该事项已因同一原因获得先行赔付",
        "This matter was already compensated for the same cause",
    ),
    ErrorCode.PAYOUT_LIMIT_EXCEEDED: (
        "赔付金额超过规则上限或订单实付金额",
        "The amount is above the rule's limit per payout or what was paid for the order",
    ),
    ErrorCode.DEPOSIT_INSUFFICIENT: (
        "商家保证金不足以追偿该金额",
        "The merchant's deposit does not cover the recovery",
    ),
    ErrorCode.ALREADY_CORRECTED: ("该笔交易已被冲正", "This transaction was already corrected"),
    ErrorCode.DISPUTE_EXISTS: (
        "该售后申请或投诉已有争议",
        "This after-sales request or complaint already has a dispute",
    ),
    ErrorCode.NOT_DISPUTABLE: (
        "只能就被拒绝的售后申请或未获支持的订单投诉发起争议",
        "Only a rejected after-sales request or a complaint about an order that was not "
        "upheld can be disputed",
    ),
    ErrorCode.DISPUTE_CLOSED: ("争议已结束", "The dispute is closed"),
    ErrorCode.OFFER_NOT_LIVE: (
        "该和解方案已失效或已答复",
        "This settlement offer is no longer open or has been answered",
    ),
    ErrorCode.SETTLEMENT_PERIOD_OPEN: (
        "和解期尚未结束：和解期满或双方均申请后方可仲裁",
        "The settlement period is still open: arbitration starts when it ends or when both "
        "parties ask",
    ),
    ErrorCode.SETTLEMENT_PERIOD_OVER: (
        "和解期已结束，争议将转入平台仲裁",
        "The settlement period has ended; the dispute goes to the platform's arbitration",
    ),
    ErrorCode.COMPENSATION_ABOVE_LIMIT: (
        "赔偿金额超过规则上限",
        "The compensation is above the rule's limit",
    ),
    # Customer-service chat (QS 9.2.2, 9.7.2)
    ErrorCode.SESSION_CLOSED: ("客服会话已结束", "The customer-service session is closed"),
    ErrorCode.TOO_MANY_OPEN_SESSIONS: (
        "进行中的客服会话已达上限，请先结束一个",
        "Too many open customer-service sessions: close one first",
    ),
    ErrorCode.AGENT_AT_CAPACITY: (
        "该客服同时处理的会话已达上限",
        "The agent already works the most sessions the rule allows at once",
    ),
    ErrorCode.SERVICE_QUEUE_EMPTY: ("排队中没有待接入的会话", "No session is waiting in the queue"),
    ErrorCode.AGENT_UNAVAILABLE: (
        "该客服不可接入会话（未在岗或无在线客服岗位）",
        "The agent cannot take sessions (not on duty or not on the online-service post)",
    ),
    ErrorCode.NOT_SESSION_PARTY: (
        "只有会话的发起人和接待客服可以在会话中发言",
        "Only the session's opener and its agent may write in it",
    ),
    # The phone queue (QS 9.2.2)
    ErrorCode.CALL_BATCH_SIZE: (
        "每批须提交 1 到 100 个通话事件",
        "A batch holds 1 to 100 call events",
    ),
    ErrorCode.EVENT_TIME_OUT_OF_RANGE: (
        "事件时间超出可接受范围：不得晚于当前时间 5 分钟以上，也不得早于 30 天前",
        "The event's time is out of range: at most 5 minutes ahead of now and at most 30 days ago",
    ),
    ErrorCode.CALL_AGENT_INVALID: (
        "坐席无效：接听事件须注明接听的客服人员（具有客服职责的平台员工），其他事件不注明坐席",
        "Invalid agent: an ANSWERED event names the staff member with the customer-service "
        "duty who answered, and other events name none",
    ),
    ErrorCode.CALL_EVENT_CONFLICT: (
        "该事件与同一通话已记录的事件相矛盾",
        "The event contradicts the events already recorded for the same call",
    ),
    ErrorCode.INVALID_DAY_RANGE: (
        "日期无效：period 为 UTC 日期 YYYY-MM-DD 或月份 YYYY-MM，或以 from 与 to 给出日期"
        "范围（按日最多 92 天，按小时最多 7 天），二者不可同时给出",
        "Invalid dates: period is a UTC day YYYY-MM-DD or month YYYY-MM, or give from and "
        "to (at most 92 days by day, 7 days by hour), not both",
    ),
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    ErrorCode.NOT_STAFF_MEMBER: ("该账户不是平台员工", "The account is not a staff account"),
    ErrorCode.STAFF_DUTY_MISSING: (
        "该员工不具备此岗位所需的职责",
        "The staff member lacks the duty this post needs",
    ),
    ErrorCode.ACCOUNT_INACTIVE: ("该账户已停用", "The account is deactivated"),
    ErrorCode.STAFF_PROFILE_MISSING: (
        "尚未登记该员工的任职档案（所属团队、相关工作经验）",
        "The staff member's profile (team, relevant experience) is not recorded yet",
    ),
    ErrorCode.TRAINING_MISSING: (
        "该员工尚未通过此岗位所需的培训考核",
        "The staff member has not passed the training assessments this post needs",
    ),
    ErrorCode.LAW_ASSESSMENT_MISSING: (
        "关键岗位须通过电子商务法律知识考核",
        "A key post needs the e-commerce law assessment passed",
    ),
    ErrorCode.EXPERIENCE_SHORT: (
        "关键岗位须具备至少 1 年相关工作经验",
        "A key post needs at least one year of relevant experience",
    ),
    ErrorCode.POST_ALREADY_HELD: ("该员工已在此岗位上", "The staff member already holds this post"),
    ErrorCode.POST_ENDED: ("该岗位任命已结束", "This post assignment has already ended"),
    ErrorCode.NOT_ON_POST: (
        "须持有相应的品质服务岗位方可执行此操作",
        "This needs the quality-service post it belongs to",
    ),
    ErrorCode.SELF_ASSESSMENT: (
        "考核人不能为自己的培训评分",
        "An assessor may not assess their own training",
    ),
    ErrorCode.SELF_ASSIGNMENT: (
        "不能为自己任命岗位或登记任职档案",
        "Staff may not assign a post to themselves or record their own profile",
    ),
}


class ServiceError(Exception):
    """A refused business operation. Raising it inside a transaction rolls it back."""

    def __init__(self, code: ErrorCode, field: tuple[str, ...] | list[str] = (), detail: str = ""):
        self.code = code
        self.field = list(field)
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else str(code))

    def message(self, language: str = "zh") -> str:
        zh, en = MESSAGES[self.code]
        text = en if language == "en" else zh
        return f"{text} ({self.detail})" if self.detail else text
