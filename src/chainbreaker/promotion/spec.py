"""What the tables of a seized platform database mean: canonical fields and their usual names.

Synonyms cover 网狐 (``UserID``/``SpreaderID``), generic web platforms (``id``/``parent_id``) and
Chinese exports (``会员ID``/``上级ID``/``推荐人ID``). A YAML profile overrides them per table.
"""

from __future__ import annotations

FIELDS: dict[str, dict[str, list[str]]] = {
    "members": {
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "memberid", "uid", "user_id", "id", "会员编号", "玩家ID"],
        "username": ["Accounts", "用户名", "会员账号", "账号", "登录账号", "username", "account", "user_name", "login_name"],
        "upline_id": ["SpreaderID", "parent_id", "上级ID", "推荐人ID", "上级代理ID", "邀请人ID", "上级", "推荐人",
                      "pid", "parentid", "agent_id", "inviter_id", "referrer_id", "上级会员ID"],
        "level": ["AgentLevel", "代理级别", "代理等级", "层级", "级别", "level", "agent_level", "会员类型"],
        "real_name": ["Compellation", "RealName", "真实姓名", "姓名", "real_name", "truename"],
        "id_number": ["PassPortID", "IDCard", "身份证号", "身份证号码", "证件号码", "身份证", "id_card", "id_number", "idno"],
        "phone": ["MobilePhone", "手机号", "手机号码", "手机", "电话", "联系电话", "phone", "mobile", "tel"],
        "bank_card": ["BankCard", "银行卡号", "银行卡", "绑定银行卡", "bank_card", "card_no", "bankcard"],
        "register_ip": ["RegisterIP", "注册IP", "reg_ip", "register_ip", "regip"],
        "register_time": ["RegisterDate", "注册时间", "注册日期", "reg_time", "register_time", "created_at", "create_time"],
        "last_login_ip": ["LastLogonIP", "最后登录IP", "登录IP", "last_ip", "last_login_ip"],
        "last_login_time": ["LastLogonDate", "最后登录时间", "last_login_time", "last_login", "login_time"],
        "device": ["RegisterMachine", "设备号", "设备ID", "机器码", "设备码", "device_id", "device", "imei"],
    },
    "bets": {
        "order_id": ["OrderID", "注单号", "注单编号", "投注单号", "bet_id", "order_no", "orderid", "RecordID"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id"],
        "game": ["GameName", "KindID", "游戏", "游戏名称", "彩种", "game", "game_name"],
        "period": ["Period", "期号", "局号", "period", "issue", "round_id"],
        "stake": ["BetAmount", "BetScore", "投注金额", "下注金额", "投注额", "stake", "bet_amount", "bet_money"],
        "payout": ["WinAmount", "派彩", "派彩金额", "中奖金额", "payout", "win_amount", "prize"],
        "valid_bet": ["ValidBet", "有效投注", "有效投注额", "valid_bet", "valid_amount"],
        "rebate": ["Rebate", "返水", "返水金额", "rebate"],
        "ts": ["BetTime", "投注时间", "下注时间", "bet_time", "created_at", "create_time"],
    },
    "deposits": {
        "order_id": ["OrderNo", "订单号", "充值单号", "order_no", "orderid"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id"],
        "amount": ["Amount", "充值金额", "存款金额", "入款金额", "amount", "pay_amount", "money"],
        "channel": ["PayChannel", "充值渠道", "支付方式", "支付渠道", "channel", "pay_type"],
        "payee_account": ["PayeeAccount", "收款账号", "收款卡号", "收款账户", "码商账号", "payee_account", "receive_account"],
        "status": ["Status", "状态", "订单状态", "status", "state"],
        "ts": ["PayTime", "充值时间", "存款时间", "入款时间", "pay_time", "created_at", "create_time"],
    },
    "withdrawals": {
        "order_id": ["OrderNo", "订单号", "提现单号", "order_no", "orderid"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id"],
        "amount": ["Amount", "提现金额", "取款金额", "出款金额", "withdraw_amount", "amount", "money"],
        "bank_card": ["BankCard", "银行卡号", "提现卡号", "收款卡号", "bank_card", "card_no"],
        "status": ["Status", "状态", "订单状态", "status", "state"],
        "ts": ["ApplyTime", "申请时间", "提现时间", "出款时间", "withdraw_time", "created_at", "create_time"],
    },
    "rebates": {
        "member_id": ["UserID", "会员ID", "代理ID", "用户ID", "member_id", "uid", "user_id", "agent_id"],
        "amount": ["Amount", "佣金金额", "返佣金额", "返水金额", "分红金额", "金额", "commission", "amount"],
        "kind": ["Type", "类型", "佣金类型", "type", "kind"],
        "ts": ["SettleTime", "结算时间", "发放时间", "settle_time", "created_at", "create_time"],
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "members": ("member_id", "upline_id"),
    "bets": ("member_id", "stake"),
    "deposits": ("member_id", "amount"),
    "withdrawals": ("member_id", "amount"),
    "rebates": ("member_id", "amount"),
}

# Words in a table or file name that say which kind of table it is.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "members": ("user", "member", "会员", "用户", "玩家", "account"),
    "bets": ("bet", "注单", "投注", "order_record", "game_record", "record"),
    "deposits": ("recharge", "deposit", "充值", "存款", "入款"),
    "withdrawals": ("withdraw", "提现", "取款", "出款"),
    "rebates": ("commission", "rebate", "佣金", "返佣", "返水", "分红", "settle"),
}

MONEY_FIELDS = {"stake", "payout", "valid_bet", "rebate", "amount"}
TIME_FIELDS = {"ts", "register_time", "last_login_time"}

# Deposit/withdrawal statuses that mean the money did not move.
FAILED_STATUSES = ("失败", "取消", "已取消", "拒绝", "已拒绝", "驳回", "未支付", "待支付", "超时", "关闭", "已关闭",
                   "failed", "fail", "cancel", "cancelled", "canceled", "rejected", "refused", "pending", "unpaid",
                   "timeout", "closed")
REBATE_KINDS = {"返水": "rebate", "洗码": "rebate", "rebate": "rebate", "分红": "dividend", "占成": "dividend",
                "dividend": "dividend", "profit_share": "dividend"}
