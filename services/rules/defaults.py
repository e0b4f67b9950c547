"""The rules the platform starts with (QS 5.2), published as version 1 by ``pinzhi
migrate``. A key added here later joins the version in force as a new version, with the
values in force kept (``rules.ensure_defaults``)."""

from __future__ import annotations

from typing import Any

# The rules the platform starts with. Each is used by a service named in its content.
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "key": "order.limits",
        "title_zh": "下单限制",
        "title_en": "Order limits",
        "content": {"max_lines": 50, "max_quantity_per_line": 999},
    },
    {
        "key": "complaint.handling",
        "title_zh": "投诉处理时限（QS 9.2.4）",
        "title_en": "Complaint handling time limits (QS 9.2.4)",
        "content": {"max_promise_days": 7},
    },
    {
        "key": "feedback.scale",
        "title_zh": "满意度评价分值（QS 10.2）",
        "title_en": "Satisfaction feedback scale (QS 10.2)",
        "content": {"min_score": 1, "max_score": 5, "max_comment_length": 1000},
    },
    {
        "key": "merchant.grading",
        "title_zh": "商家分级规则（QS 6.1.1, 6.1.2）",
        "title_en": "Merchant grading (QS 6.1.1, 6.1.2)",
        "content": {
            "window_days": 90,
            "min_orders": 20,
            # With fewer orders the grade is provisional and rate-based dimensions are held
            # at their previous scores, or at this score for a merchant never graded.
            "provisional_rate_score": 80,
            "weights": {
                "brand": 0.15,
                "qualification": 0.15,
                "operation": 0.30,
                "credit": 0.20,
                "service": 0.20,
            },
            "levels": [["A+", 90], ["A", 80], ["B", 65], ["C", 50], ["D", 0]],
            "late_shipment_hours": 48,
            # A shipment counts for the valid-tracking rate once scanned or this old.
            "tracking_grace_hours": 24,
            # Each rate maps linearly to 100 at "good" and 0 at "bad".
            "operation": {
                "order_defect_rate": {"good": 0.0, "bad": 0.05},
                "late_shipment_rate": {"good": 0.0, "bad": 0.10},
                "cancellation_rate": {"good": 0.0, "bad": 0.075},
                "valid_tracking_rate": {"good": 1.0, "bad": 0.85},
            },
            # The service dimension is the mean of its indicators' sub-scores.
            "service": {
                "complaint_timeliness": {"good": 1.0, "bad": 0.5},
                "complaint_rate": {"good": 0.0, "bad": 0.05},
                "satisfaction": {"good": 5.0, "bad": 3.0},
                # After-sales sweep and timeliness (QS 9.2.1, 9.2.3): the share of
                # after-sales requests opened in the window that were answered within their
                # response limit, of those answered or past it.
                "after_sales_timeliness": {"good": 1.0, "bad": 0.8},
            },
            "credit": {
                "severity": {
                    "COUNTERFEIT": 40,
                    "FAKE_ORDERS": 30,
                    "FALSE_ADVERTISING": 20,
                    "UNSAFE_PRODUCT": 40,
                    "OTHER": 10,
                },
                "half_life_days": 180,
                "deposit_shortfall_points": 20,
            },
            "brand": {
                "points_per_registered_brand": 30,
                "points_per_authorised_brand": 15,
                "max_brand_points": 60,
                "sales_rank_points": 40,
            },
            "qualification": {
                "always": ["BUSINESS_LICENCE"],
                "by_category": {
                    "food": ["FOOD_BUSINESS_LICENCE"],
                    "cosmetics": ["COSMETICS_LICENCE"],
                    "mother_baby": ["MOTHER_BABY_PERMIT"],
                },
            },
        },
    },
    {
        "key": "merchant.warnings",
        "title_zh": "商家监测预警阈值（QS 6.1.2）",
        "title_en": "Merchant monitoring thresholds (QS 6.1.2)",
        "content": {
            "window_days": 30,
            "min_orders": 10,
            "thresholds": {
                "order_defect_rate": {"max": 0.01},
                "late_shipment_rate": {"max": 0.04},
                "cancellation_rate": {"max": 0.025},
                "valid_tracking_rate": {"min": 0.95},
            },
            # A value this many times beyond the threshold is SEVERE.
            "severe_factor": 2.0,
            # Under key control, thresholds tighten by this factor (QS 6.4).
            "key_control_factor": 0.5,
        },
    },
    {
        "key": "merchant.incentives",
        "title_zh": "商家激励：佣金与供应链金融（QS 6.2）",
        "title_en": "Merchant incentives: commission and financing (QS 6.2)",
        "content": {
            "commission_bps_by_level": {"A+": 300, "A": 400, "B": 500, "C": 600, "D": 800},
            "ungraded_commission_bps": 500,
            "key_control_commission_bps": 800,
            "financing_levels": ["A+", "A"],
        },
    },
    {
        "key": "violation.penalties",
        "title_zh": "违规处罚阶梯与重点管控（QS 6.4）",
        "title_en": "Violation penalty ladder and key control (QS 6.4)",
        "content": {
            # The n-th decided case of a type gets the n-th step (the last step repeats).
            "ladder": {
                "COUNTERFEIT": ["LISTING_FREEZE", "SUSPENSION"],
                "FAKE_ORDERS": [
                    "WARNING",
                    "TRAFFIC_RESTRICTION",
                    "DEPOSIT_DEDUCTION",
                    "SUSPENSION",
                ],
                "FALSE_ADVERTISING": ["WARNING", "TRAFFIC_RESTRICTION", "DEPOSIT_DEDUCTION"],
                "UNSAFE_PRODUCT": ["LISTING_FREEZE", "SUSPENSION"],
                "OTHER": ["WARNING", "TRAFFIC_RESTRICTION"],
            },
            "deduction_minor": 500000,
            # QS 6.4, 7.2: a TRAFFIC_RESTRICTION in force takes this off the rank score of
            # every product of the merchant in the default listing order.
            "traffic_restriction_rank_penalty": 30,
            "appeal_days": 7,
            "serious_types": ["COUNTERFEIT", "UNSAFE_PRODUCT"],
            "serious_penalties": ["LISTING_FREEZE", "SUSPENSION"],
            "key_control_days": 180,
            "key_categories": ["mother_baby", "food", "cosmetics"],
        },
    },
    {
        "key": "product.grading",
        "title_zh": "商品分级与流量扶持（QS 7.1, 7.2）",
        "title_en": "Product grading and traffic support (QS 7.1, 7.2)",
        "content": {
            "weights": {
                "qualification": 0.25,
                "production": 0.15,
                "listing": 0.20,
                "after_sales": 0.20,
                "reviews": 0.20,
            },
            "levels": [["A+", 90], ["A", 80], ["B", 65], ["C", 50], ["D", 0]],
            "key_categories": ["mother_baby", "food", "cosmetics"],
            "required_attributes": {
                "food": ["brand", "origin", "shelf_life", "net_weight"],
                "mother_baby": ["brand", "age_range", "material"],
                "cosmetics": ["brand", "origin", "shelf_life", "volume"],
                "*": ["brand"],
            },
            # The bounds of the quality-complaint share (see after_sales_formula).
            "quality_complaint_rate": {"good": 0.0, "bad": 0.05},
            "not_as_described_rate": {"good": 0.0, "bad": 0.05},
            "rating": {"good": 5.0, "bad": 3.0},
            "praise_rate": {"good": 0.5, "bad": 0.0},
            "min_reviews": 5,
            # Orders, complaints, after-sales requests and reviews of the last window_days
            # count (QS 7.1.1).
            "window_days": 180,
            "qualification_kinds": [
                "NATIONAL_INSPECTION",
                "INDUSTRY_CERTIFICATION",
                "BRAND_AUTHORISATION",
            ],
            "production_kinds": ["ENVIRONMENTAL_COMPLIANCE", "SAFETY_COMPLIANCE"],
            # These count as inspections of key-category products (QS 7.1.2).
            "inspection_kinds": ["THIRD_PARTY_INSPECTION", "NATIONAL_INSPECTION"],
            "review": {"min_rating": 1, "max_rating": 5, "max_text_length": 1000},
            # Quality praise (QS 7.1.1 reviews, the "质量好" rate): a review counts when the
            # reviewer, in their own voice, praises the product's quality: its quality,
            # workmanship, materials or genuineness. The text is segmented (jieba) and cut into
            # clauses at punctuation and contrast markers; a keyword counts when its words occur
            # in order in one clause, separated at most by degree adverbs, fillers or negations,
            # and the negations before and between them cancel in pairs ("质量很好" and
            # "质量不能说不好" count, "质量一点也不好" does not). Keywords are the
            # praise_keywords, every quality topic followed by a quality predicate
            # ("做工" + "精湛"), and the standalone praise words.
            "praise_keywords": ["质量好", "质量很好", "质量不错", "做工好", "做工精细", "正品"],
            "negations": [
                "不",
                "没",
                "没有",
                "无",
                "非",
                "并非",
                "未",
                "并不",
                "不太",
                "一点也不",
                "一点都不",
                "未必",
                "不见得",
                "没什么",
                # Verb phrases that deny the praise: "不能说质量好", "做工谈不上精湛".
                "不能说",
                "不敢说",
                "说不上",
                "谈不上",
                "算不上",
                "称不上",
                "not",
                "never",
            ],
            # Read as one affirmative word before or inside a keyword ("不得不说质量好").
            "double_negations": ["不得不说", "不能不说", "不得不承认", "不可否认", "不是一般的"],
            "degree_adverbs": [
                "很",
                "非常",
                "挺",
                "特别",
                "真",
                "真的",
                "十分",
                "相当",
                "超",
                "超级",
                "比较",
                "蛮",
                "太",
                "极",
                "极其",
                "那么",
                "这么",
                "最",
                "更",
                "再",
                "真心",
                "确实",
                "的确",
                "实在",
                "果然",
                "明明",
                "越来越",
                "一直",
                "始终",
                "依然",
                "一如既往",
                # Colloquial: "质量贼好", "质量老好了", "质量嘎嘎好", "超级无敌好".
                "贼",
                "巨",
                "老",
                "忒",
                "嘎嘎",
                "无敌",
                "very",
                "so",
                "really",
                "super",
                "pretty",
                "quite",
                "extremely",
            ],
            "filler_words": [
                "是",
                "也",
                "都",
                "还",
                "一点",
                "并",
                "就",
                "算",
                "的",
                "像",
                "那",
                "叫",
                "一个",
                "上",
                "方面",
                "整体",
                "总体",
                "可以说",
                "能",
                "会",
                "怎么",
                "咋",
                "任何",
                "嘛",
                "啊",
                "呀",
                "哦",
                "is",
                "was",
                "are",
            ],
            # What a praise word is about decides whether it is quality praise. A quality
            # topic followed by a quality predicate is; a predicate that only means "great"
            # ("一流", "杠杠的", "没得说", "无可挑剔") says nothing about quality alone, and
            # "服务一流" or "物流杠杠的" is about something else. The standalone words mean
            # quality by themselves ("正品", "扎实", "耐用"; a flaw, "毛病", is a defect, so
            # "挑不出毛病" and "无可挑剔" are quality praise) unless the clause names another
            # subject first ("包装很结实", "服务无可挑剔"); general approval with no subject
            # ("好评", "东西很好", "没有不好的地方") is not.
            "quality_topics": [
                "质量",
                "品质",
                "做工",
                "用料",
                "材质",
                "材料",
                "工艺",
                "面料",
                "品控",
                "质感",
                "quality",
            ],
            "quality_predicates": [
                "好",
                "不错",
                "精细",
                "精致",
                "细致",
                "上乘",
                "一流",
                "过硬",
                "扎实",
                "结实",
                "杠杠",
                "没得说",
                "没话说",
                "没得挑",
                "无可挑剔",
                "挑不出毛病",
                "没毛病",
                "毛病都没有",
                "没问题",
                "没有问题",
                "有保障",
                "有保证",
                "一级棒",
                "棒",
                "靠谱",
                "优良",
                "优秀",
                "精湛",
                "考究",
                "讲究",
                "足",
                "高",
                "满分",
                "绝了",
                "好评",
                "👍",
                "💯",
                "good",
                "great",
                "excellent",
                "nice",
            ],
            "standalone_praise": [
                "正品",
                "货真价实",
                "扎实",
                "结实",
                "耐用",
                "优质",
                "高品质",
                "高质量",
                "好质量",
                "挑不出毛病",
                "无可挑剔",
                "good quality",
                "great quality",
                "high quality",
                "excellent quality",
                "nice quality",
            ],
            "other_topics": [
                "物流",
                "快递",
                "发货",
                "客服",
                "服务",
                "态度",
                "包装",
                "价格",
                "售后",
                "卖家",
                "商家",
                "店家",
                "外观",
                "颜色",
                "速度",
                "delivery",
                "service",
            ],
            # Endings of a predicate within its word: "好太多了", "好好" (reduplicated).
            "degree_complements": ["多了", "很多", "太多", "得多", "得很", "极了", "好"],
            # "质量和服务都很好": a joined subject shares the predicate.
            "coordination_words": ["和", "与", "跟", "以及", "及"],
            # "质量比上次好" compares up, "质量没有上次好" down (a down comparison negates).
            "comparison_markers": {
                "better": ["比", "比起", "胜过"],
                "worse": ["没有", "没", "不如", "比不上", "赶不上", "不及", "比不过"],
            },
            # Clause context. Markers match whole words; "?" and "吗" make a question.
            "question_markers": [
                "?",
                "吗",
                "么",
                "是否",
                "是不是",
                "有没有",
                "好不好",
                "能不能",
                "会不会",
                "怎么样",
                "咋样",
                "请问",
            ],
            # "…" stands for any words: "怎么质量这么好？" exclaims.
            "exclamatory_markers": ["怎么…这么", "怎么…那么", "咋…这么", "咋…那么"],
            # In a question, these ask the opposite of what they mean: "这质量能不好吗".
            "rhetorical_markers": ["难道", "谁说", "怎么会", "怎么可能", "哪能", "能"],
            "hypothetical_markers": [
                "如果",
                "要是",
                "假如",
                "假设",
                "倘若",
                "若是",
                "万一",
                "只要",
                "希望",
                "但愿",
                "期待",
                "期望",
                "盼望",
                "要求",
                "想要",
            ],
            "hypothetical_endings": ["的话", "就好了", "就更好了", "该多好"],
            # A wish that the quality stay so presupposes it: "希望质量一直这么好".
            "continuation_words": ["一直", "继续", "始终", "永远", "一如既往", "保持"],
            # Reported praise counts only when the reviewer confirms it in the same sentence.
            "hearsay_markers": [
                "说是",
                "号称",
                "宣传",
                "宣称",
                "标榜",
                "据说",
                "听说",
                "都说",
                "网传",
                "网上说",
                "有人说",
                "别人说",
                "人家说",
                "你们说",
                "卖家说",
                "商家说",
                "店家说",
                "客服说",
                "主播说",
                "老板说",
                "广告说",
                "介绍说",
                "描述说",
            ],
            "confirmation_markers": ["果然", "确实", "的确", "名不虚传", "名副其实", "不假"],
            # Praise expected or set up to be disbelieved never counts: "本以为质量好结果一般".
            "disbelief_markers": [
                "别信",
                "千万别信",
                "不要信",
                "别相信",
                "不要相信",
                "以为",
                "本以为",
                "原以为",
                "还以为",
                "满以为",
                "原本以为",
                "本来以为",
                "说好的",
            ],
            # Praise taken back in its clause or the next: "质量好才怪", "质量很好，呵呵".
            "refutation_markers": [
                "才怪",
                "就怪了",
                "骗人",
                "忽悠",
                "个屁",
                "鬼才信",
                "呵呵",
                "托",
                "水军",
                "假的",
                "到哪去",
                "到哪里去",
                "到哪儿去",
            ],
            # A contrast starts a new clause and ends reported speech; so does the reviewer's
            # own voice.
            "contrast_markers": [
                "但是",
                "但",
                "可是",
                "结果",
                "却",
                "然而",
                "不过",
                "其实",
                "实际上",
                "事实上",
                "实际",
                "谁知",
                "谁知道",
                "哪知",
                "没想到",
                "没有想到",
                "想不到",
                "竟然",
                "居然",
                "反而",
            ],
            "own_voice_markers": [
                "我觉得",
                "我感觉",
                "个人觉得",
                "个人感觉",
                "我认为",
                "在我看来",
                "亲测",
                "实测",
                "实物",
                "收到",
                "到手",
                "拿到",
                "用了",
                "用过",
                "试了",
                "发现",
            ],
            # Written forms read as their standard ones before segmentation.
            "spelling_variants": {
                "灰常": "非常",
                "木有": "没有",
                "米有": "没有",
                "没的说": "没得说",
            },
            # Traditional characters of the words above and common review words, and their
            # simplified forms, in the same order.
            "traditional_characters": [
                "質細錯說結貨還沒這們東實讓點優過與為號稱聽據確紮譜麼嗎樣會話傳對覺認雖卻買賣發現"
                "壞問題較際後級價錢貴萬別繼續務態裝遞槓講無緻極爛屬產廠氣總體種從時間長開線顏場專"
                "櫃誇虛騙謊愛歡經驗試來個兒應該塊條張寶貝廣營銷層檔證頂並僅隻幾",
                "质细错说结货还没这们东实让点优过与为号称听据确扎谱么吗样会话传对觉认虽却买卖发现"
                "坏问题较际后级价钱贵万别继续务态装递杠讲无致极烂属产厂气总体种从时间长开线颜场专"
                "柜夸虚骗谎爱欢经验试来个儿应该块条张宝贝广营销层档证顶并仅只几",
            ],
            # Key-category products: without a valid passed inspection they cannot reach
            # the top level; a failed or expired one caps them lower (QS 7.1.2).
            "cap_without_inspection": "A",
            "cap_failed_inspection": "C",
            # After-sales sweep and timeliness (QS 9.2.1, 9.2.3): the after-sales
            # dimension's formula and the return rate's bounds.
            "return_rate": {"good": 0.0, "bad": 0.2},
            "after_sales_formula": "after_sales = mean(linear(return_rate, return_rate), "
            "linear(quality_complaint_share, quality_complaint_rate)), either left out without "
            "data (100 with neither); return_rate = units sent back on return, exchange and "
            "quality-issue requests (once in transit back) / units sold (less those refunded "
            "before shipment); quality_complaint_share = orders with an upheld QUALITY "
            "complaint or an approved QUALITY_ISSUE request on the product / orders with the "
            "product; over the sold orders of the last window_days",
            "badge_levels": ["A+", "A"],
            "badge_text": {"zh": "品质优选", "en": "Quality choice"},
            "rank_boost_by_level": {"A+": 40, "A": 30, "B": 20, "C": 10, "D": 0},
            # Traffic support (QS 7.2), the published formula of the default listing order.
            "ranking": "rank_score = rank_boost_by_level[level] + score / 10 (0 until graded), "
            "less violation.penalties.traffic_restriction_rank_penalty while a traffic "
            "restriction is in force; listings order by rank_score, highest first, then "
            "newest first",
        },
    },
    {
        "key": "pii.disclosure",
        "title_zh": "个人信息展示与脱敏（QS 9.4.1）",
        "title_en": "Personal information disclosure and masking (QS 9.4.1)",
        "content": {
            "consumer_own": "whole",
            "merchant_of_order": {"name": "whole", "address": "whole", "phone": "masked"},
            "assigned_logistics_provider": "whole",
            "customer_service_on_open_case": "whole",
            "regulator": "masked",
            "other_staff": "masked",
            "every_whole_read_by_others_is_logged": True,
        },
    },
    {
        "key": "after_sales.response",
        "title_zh": "售后响应时限（QS 9.2.3）",
        "title_en": "After-sales response limits (QS 9.2.3)",
        "content": {
            # Calendar hours from opening to the first response, by kind.
            "response_hours": {
                "REFUND_BEFORE_SHIPMENT": 1,
                "RETURN_REFUND": 24,
                "REFUND_ONLY": 24,
                "EXCHANGE": 24,
                "QUALITY_ISSUE": 36,
                "RESHIPMENT": 36,
            },
            # What stamps the first response: an answer, an approval or a rejection, by the
            # merchant or by customer-service staff. A note alone from anyone else does not.
            "responses": ["RESPOND", "APPROVE", "REJECT"],
            "responders": ["MERCHANT", "STAFF"],
            # Days after delivery in which a return, exchange or refund-only may be asked;
            # a quality issue may be raised for longer.
            "return_window_days": 7,
            "quality_window_days": 90,
            "max_evidence": 9,
            "max_open_per_order": 5,
        },
    },
    {
        "key": "after_sales.queue",
        "title_zh": "售后处理优先顺序（QS 9.2.1）",
        "title_en": "After-sales queue order (QS 9.2.1)",
        "content": {
            # A request's priority is the sum of the weights it earns when opened; the queue
            # orders by priority (highest first), then by response deadline, then by age.
            "weights": {"premium": 2, "accessibility": 1},
            "order": "priority desc, response_due_at asc, id asc",
        },
    },
    {
        "key": "after_sales.premium",
        "title_zh": "品质商品售后权益（QS 9.7.3–9.7.5）",
        "title_en": "Premium after-sales for quality products (QS 9.7.3-9.7.5)",
        "content": {
            # Products graded at these levels earn the benefits below when a request opens.
            "levels": ["A+", "A"],
            # The platform books the carrier for a return and bears the cost.
            "free_pickup": True,
            # Requests up to this amount, of these kinds, are approved at once.
            "fast_review_max_minor": 50000,
            "fast_review_kinds": ["RETURN_REFUND", "REFUND_ONLY", "EXCHANGE", "QUALITY_ISSUE"],
            # The refund is made when the carrier scans the pick-up.
            "instant_refund": True,
            "return_window_days": 15,
            # A quality issue is answered with a replacement (or a refund), never a repair.
            "replace_not_repair": True,
            "priority": True,
        },
    },
    # Advance-compensation fund (QS 9.7.6)
    {
        "key": "fund.payout",
        "title_zh": "先行赔付基金赔付规则（QS 9.7.6）",
        "title_en": "Advance-compensation fund payouts (QS 9.7.6)",
        # A payout is recovered from the order's merchant unless staff name a service
        # provider; a merchant appeals it through its violation case, within the appeal days
        # of violation.penalties.
        "content": {
            # The causes the fund pays first for: the product's quality, a service failure.
            "causes": ["PRODUCT_QUALITY", "SERVICE_FAILURE"],
            # The most one payout may be (minor units, CNY).
            "max_per_claim_minor": 500000,
            # All the payouts about one order together: at most this share of what was
            # paid for it (basis points: 10000 is the whole paid amount).
            "max_order_share_bps": 10000,
            # The most one contribution may be.
            "max_contribution_minor": 100000000,
        },
    },
    # Online disputes (QS 9.7.7)
    {
        "key": "dispute.settlement",
        "title_zh": "质量争议先行和解与平台仲裁（QS 9.7.7）",
        "title_en": "Quality disputes: settle first, then the platform arbitrates (QS 9.7.7)",
        "content": {
            # Calendar hours from opening in which the parties exchange offers; after them
            # (or sooner, when both parties ask) customer-service staff arbitrate.
            "settle_hours": 72,
            # Offers each party may make in one dispute (a new one replaces its last).
            "max_offers_per_party": 10,
            # Compensation, offered or awarded, is at most this many times the order total.
            "compensation_max_order_multiple": 3,
        },
    },
    {
        "key": "bulky_goods",
        "title_zh": "大件商品送装一体与以旧换新（QS 9.7.5）",
        "title_en": "Bulky goods: delivery with installation, and trade-in (QS 9.7.5)",
        "content": {
            # The product categories that are bulky goods (furniture, large appliances).
            "categories": ["furniture", "large_appliances"],
            "installation": {
                # Whether delivery comes with installation, free, by bulky category.
                "included": {"furniture": True, "large_appliances": True},
                # Slots of slot_hours, on the hour, from first_slot_hour to last_slot_hour
                # (the end of the last slot) in the platform's local time (UTC+8).
                "slot_hours": 2,
                "first_slot_hour": 8,
                "last_slot_hour": 20,
                "utc_offset_hours": 8,
                # A slot is booked (or moved to) at least min_ahead_days and at most
                # max_ahead_days before it starts.
                "min_ahead_days": 1,
                "max_ahead_days": 14,
                # A slot may be moved until this long before it starts, this many times.
                "reschedule_cutoff_hours": 24,
                "max_reschedules": 3,
                # Once delivered, the goods are installed within this many days: a slot
                # may not start later, and a completion after it is not on time.
                "install_within_days": 7,
            },
            "trade_in": {
                # The old item is of the new line's category; these are accepted, each
                # with its fixed credit in fen for an old item in working order.
                "credit_minor": {"furniture": 20000, "large_appliances": 30000},
                # The share of that credit each declared condition earns, in percent.
                "condition_percent": {"WORKING": 100, "WORN": 60, "BROKEN": 20},
                # The credit is never above this share of the line's price, in percent.
                "max_share_percent": 30,
                # A trade-in is asked after payment and before delivery: in these states.
                "order_states": ["PAID", "SHIPPED"],
            },
        },
    },
    # Customer-service chat (QS 9.2.2, 9.7.1, 9.7.2)
    {
        "key": "customer_service.chat",
        "title_zh": "在线客服响应时限与人工转接（QS 9.2.2、9.7.2）",
        "title_en": (
            "Online customer service: response limits and transfer to human (QS 9.2.2, 9.7.2)"
        ),
        "content": {
            # Seconds from the handover to the first agent message, at most (QS 9.2.2);
            # exactly the limit is within it.
            "first_response_seconds": 30,
            # Seconds a customer waits for each agent answer, on average, at most.
            "average_response_seconds": 60,
            # The AI hands over by itself below this confidence, or after this many misses
            # in a row (QS 9.7.2).
            "ai_min_confidence": 0.55,
            "ai_max_failures": 2,
            # The queue's weights (QS 9.2.1): a session's priority is the sum it earns.
            "weights": {"premium": 2, "accessibility": 1},
            # Product grades that make a session about them a quality-service one.
            "premium_levels": ["A+", "A"],
            "order": "priority desc, response_due_at asc, id asc",
            # Sessions an agent works at once, at most.
            "max_active_per_agent": 5,
            # A message's length, at most, in characters.
            "max_message_length": 2000,
            # A customer's open sessions, at most.
            "max_open_per_customer": 3,
        },
    },
    {
        "key": "customer_service.contact",
        "title_zh": "客服热线与服务时间（QS 9.7.2）",
        "title_en": "Customer-service hotline and hours (QS 9.7.2)",
        "content": {
            # Direct lines to a human agent, with the hours they are staffed (UTC+8).
            "hotlines": [
                {
                    "number": "400-820-0000",
                    "label_zh": "消费者服务热线",
                    "label_en": "Consumer hotline",
                    "hours": "00:00-24:00",
                },
                {
                    "number": "400-820-0001",
                    "label_zh": "商家服务热线",
                    "label_en": "Merchant hotline",
                    "hours": "08:00-22:00",
                },
                {
                    "number": "400-820-0002",
                    "label_zh": "适老化与无障碍专线",
                    "label_en": "Accessible-service line",
                    "hours": "00:00-24:00",
                },
            ],
            "online_hours": "00:00-24:00",
            "utc_offset_hours": 8,
        },
    },
    {
        "key": "customer_service.faq",
        "title_zh": "智能客服常见问题答复（QS 9.7.1）",
        "title_en": "AI customer service: answers by intent (QS 9.7.1)",
        "content": {
            "answers": {
                "REFUND": {
                    "zh": (
                        "退款会在商家同意后原路退回，一般 1–3 个工作日到账。您可以在订单的售后页面"
                        "查看退款进度。"
                    ),
                    "en": (
                        "Refunds go back to your original payment method once approved, usually "
                        "within 1-3 working days. You can follow it on the order's after-sales "
                        "page."
                    ),
                },
                "RETURN_EXCHANGE": {
                    "zh": (
                        "签收后 7 天内可申请退货或换货（品质商品 15 天）。请在订单页选择商品并提交"
                        "售后申请。"
                    ),
                    "en": (
                        "You can ask to return or exchange within 7 days of delivery (15 days for "
                        "quality-service products). Choose the item on the order page and open an "
                        "after-sales request."
                    ),
                },
                "LOGISTICS_STATUS": {
                    "zh": "请告诉我是哪一笔订单，或在订单详情页查看最新物流轨迹。",
                    "en": (
                        "Tell me which order it is, or see the latest tracking on the order's page."
                    ),
                },
                "QUALITY_ISSUE": {
                    "zh": (
                        "很抱歉商品有质量问题。签收后 90 天内可提交质量问题售后，请附上照片，品质"
                        "商品直接换新。"
                    ),
                    "en": (
                        "Sorry about the quality problem. You can raise a quality issue within 90 "
                        "days of delivery with photos; quality-service products are replaced, not "
                        "repaired."
                    ),
                },
                "PAYMENT_ISSUE": {
                    "zh": (
                        "如果扣款成功但订单未更新，通常几分钟内会自动同步；重复扣款会在核对后全额"
                        "退回。"
                    ),
                    "en": (
                        "If you were charged but the order did not update, it usually catches up "
                        "within minutes; a double charge is refunded in full once checked."
                    ),
                },
                "INVOICE": {
                    "zh": "订单完成后可在订单详情页申请电子发票，开具后会发送到您的账户。",
                    "en": (
                        "Once the order is completed you can ask for an e-invoice on its page; it "
                        "is sent to your account when issued."
                    ),
                },
                "ACCOUNT": {
                    "zh": (
                        "账户登录、密码和资料问题可在“我的-设置”中处理；无法登录时请转人工核实身份"
                        "。"
                    ),
                    "en": (
                        "Login, password and profile questions are handled under My > Settings; "
                        "if you cannot log in, ask for an agent to verify your identity."
                    ),
                },
                "PRODUCT_INQUIRY": {
                    "zh": "商品的规格、等级与质量证书都在商品详情页展示；也可以直接咨询店铺客服。",
                    "en": (
                        "A product's specifications, grade and quality certificates are on its "
                        "page; you can also ask the shop directly."
                    ),
                },
                "COMPLAINT": {
                    "zh": (
                        "您可以在订单页提交投诉，平台会在承诺时间内给出处理结果。需要的话我可以为"
                        "您转接人工客服。"
                    ),
                    "en": (
                        "You can file a complaint from the order page and the platform answers "
                        "within the time it promises. I can transfer you to an agent if you like."
                    ),
                },
                "ADDRESS_CHANGE": {
                    "zh": "订单发货前可以修改收货地址；已发货的订单请联系快递或转人工协助。",
                    "en": (
                        "You can change the delivery address before the order ships; once "
                        "shipped, contact the carrier or ask for an agent."
                    ),
                },
                "HUMAN_AGENT": {
                    "zh": "正在为您转接人工客服，请稍候。",
                    "en": "Transferring you to an agent, one moment please.",
                },
            },
            # What the AI says when it did not understand.
            "fallback": {
                "zh": "抱歉，我没有理解您的问题。可以换个说法，或点击“转人工”。",
                "en": (
                    "Sorry, I did not understand. Could you put it another way, or tap 'Talk to "
                    "an agent'?"
                ),
            },
        },
    },
    # The phone queue (QS 9.2.2)
    {
        "key": "customer_service.phone",
        "title_zh": "人工电话服务平均排队时长（QS 9.2.2）",
        "title_en": "Human phone service: average time in the queue (QS 9.2.2)",
        "content": {
            # The average speed of answer (queued to answered, over the calls answered) of a
            # queue in a period: over this many seconds is a breach; exactly at it is not.
            "average_answer_seconds": 20,
            # A call answered this many seconds or fewer after it was queued counts as
            # answered within the threshold (the service level).
            "answered_within_seconds": 20,
        },
    },
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    {
        "key": "customer_service.posts",
        "title_zh": "品质服务岗位、职责与任职条件（QS 9.3.1–9.3.4）",
        "title_en": "Quality-service posts, their duties and who may hold them (QS 9.3.1-9.3.4)",
        "content": {
            # Per post: its duties; the staff duty its holder has; the course topics whose
            # assessment must be passed (QS 9.3.2: etiquette and rights handling for every
            # post); whether it is a key post, with the months of relevant experience and
            # the law assessment a key post needs (QS 9.3.4; law_topic "" for none); and
            # the open work it answers for in the staffing report (workload "" for none).
            "posts": {
                "ONLINE_SERVICE": {
                    "duties_zh": "在线客服：接待消费者与商家的在线咨询，受理售后申请并跟进进度。",
                    "duties_en": "Online service: answers consumers' and merchants' online "
                    "enquiries, takes after-sales requests and follows them up.",
                    "staff_duty": "CUSTOMER_SERVICE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": False,
                    "min_experience_months": 0,
                    "law_topic": "",
                    "workload": "open_after_sales",
                },
                "PHONE_SERVICE": {
                    "duties_zh": "热线客服：接听服务热线，解答咨询、登记投诉与售后诉求。",
                    "duties_en": "Phone service: answers the service hotlines, enquiries, "
                    "and records complaints and after-sales claims.",
                    "staff_duty": "CUSTOMER_SERVICE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": False,
                    "min_experience_months": 0,
                    "law_topic": "",
                    "workload": "open_after_sales",
                },
                "COMPLAINT_HANDLING": {
                    "duties_zh": "投诉处理：受理并在时限内办结投诉，说明延期原因并承诺办结时间。",
                    "duties_en": "Complaint handling: takes complaints and resolves them in "
                    "time, giving the reason and a promised date when it cannot at once.",
                    "staff_duty": "CUSTOMER_SERVICE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": True,
                    "min_experience_months": 12,
                    "law_topic": "ECOMMERCE_LAW",
                    "workload": "open_complaints",
                },
                "ADVANCE_COMPENSATION": {
                    "duties_zh": "先行赔付：审核并批准先行赔付，跟进向责任方的追偿。",
                    "duties_en": "Advance compensation: reviews and approves the fund's "
                    "payouts and follows their recovery from the responsible party.",
                    "staff_duty": "CUSTOMER_SERVICE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": True,
                    "min_experience_months": 12,
                    "law_topic": "ECOMMERCE_LAW",
                    "workload": "open_fund_recoveries",
                },
                "SENIOR_SUPPORT": {
                    "duties_zh": "高级客服：处理升级的售后申请与疑难诉求，代商家作出决定。",
                    "duties_en": "Senior support: works escalated after-sales requests and "
                    "hard cases, deciding them for merchants that did not.",
                    "staff_duty": "CUSTOMER_SERVICE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": True,
                    "min_experience_months": 12,
                    "law_topic": "ECOMMERCE_LAW",
                    "workload": "escalated_after_sales",
                },
                "QUALITY_SUPERVISION": {
                    "duties_zh": "品质监督：抽检服务质量与处理记录，督促整改。",
                    "duties_en": "Quality supervision: samples service quality and case "
                    "records, and follows up their correction.",
                    "staff_duty": "COMPLIANCE",
                    "required_topics": ["ETIQUETTE", "RIGHTS_HANDLING"],
                    "key_post": False,
                    "min_experience_months": 0,
                    "law_topic": "",
                    "workload": "",
                },
            },
            # The open work of the staffing report (QS 9.3.1): rows of a model in these
            # states, counted when the report is asked for.
            "workloads": {
                "open_after_sales": {
                    "model": "AfterSalesRequest",
                    "states": [
                        "REQUESTED",
                        "RESPONDED",
                        "ESCALATED",
                        "APPROVED",
                        "REJECTED",
                        "RETURN_IN_TRANSIT",
                        "RETURN_RECEIVED",
                        "REFUNDED",
                        "RESHIPPED",
                        "EXCHANGED",
                    ],
                    "zh": "未关闭、未撤回的售后申请",
                    "en": "After-sales requests neither closed nor withdrawn",
                },
                "escalated_after_sales": {
                    "model": "AfterSalesRequest",
                    "states": ["ESCALATED"],
                    "zh": "已升级至平台客服、待决定的售后申请",
                    "en": "After-sales requests escalated to customer service, undecided",
                },
                "open_complaints": {
                    "model": "Complaint",
                    "states": ["OPEN", "IN_PROGRESS", "PROMISED"],
                    "zh": "未办结的投诉",
                    "en": "Complaints not resolved",
                },
                # A payout is paid when approved; what stays open is its recovery.
                "open_fund_recoveries": {
                    "model": "FundRecovery",
                    "states": ["OPEN", "DEDUCTED"],
                    "zh": "先行赔付后尚未了结的追偿",
                    "en": "Recoveries of advance compensation not yet final",
                },
            },
            # The ratio is staff on duty per this many open items.
            "ratio_per_items": 100,
        },
    },
    {
        "key": "customer_service.performance",
        "title_zh": "品质服务人员绩效考核（QS 9.3.3）",
        "title_en": "Quality-service staff performance (QS 9.3.3)",
        "content": {
            # The parts of a staff member's score over a calendar month (UTC), each 0-100
            # by its good/bad bounds (100 at good, 0 at bad, linear between). A part without
            # data that month is left out and the weights of the others renormalised; with
            # no part at all there is no score.
            "weights": {"satisfaction": 0.4, "closure": 0.4, "response": 0.2},
            # The mean score of the consumers' feedback on the staff member's complaints
            # (subject SERVICE_CASE, given in the month), on the feedback.scale rule's scale.
            "satisfaction": {"good": 5.0, "bad": 1.0},
            # Complaints assigned to the staff member and open at some time in the month:
            # the share of them resolved in the month.
            "closure": {"good": 1.0, "bad": 0.0},
            # The share of the staff member's answers in customer-service chat sessions
            # given within the response limit of customer_service.chat, in the month.
            "response": {"good": 1.0, "bad": 0.0},
            "formula": "score = sum(weight[p] * part[p]) / sum(weight[p]) over the parts p "
            "with data; part = linear(value, good, bad)",
        },
    },
]
