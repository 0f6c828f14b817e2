/* Source note: SQL Server "Generate Scripts" (schema and data) output in the shape of a 网狐 (WHQJ)
   棋牌 platform database: QPAccountsDB.AccountsInfo with SpreaderID, a bet record table and the
   OnLineOrder recharge table; column descriptions as MS_Description extended properties at the end.
   Saved by SSMS as "Unicode" (UTF-16 LE with BOM); the test re-encodes it. */
USE [QPAccountsDB]
GO
/****** Object:  Table [dbo].[AccountsInfo]    Script Date: 2023/8/14 10:11:12 ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[AccountsInfo](
	[UserID] [int] IDENTITY(1,1) NOT NULL,
	[GameID] [int] NOT NULL,
	[Accounts] [nvarchar](31) NOT NULL,
	[NickName] [nvarchar](31) NOT NULL,
	[SpreaderID] [int] NOT NULL,
	[PassPortID] [nvarchar](18) NOT NULL,
	[Compellation] [nvarchar](16) NOT NULL,
	[MobilePhone] [nvarchar](11) NULL,
	[RegisterIP] [nvarchar](15) NOT NULL,
	[RegisterMachine] [nvarchar](32) NOT NULL,
	[RegisterDate] [datetime] NOT NULL,
	[LastLogonDate] [datetime] NULL,
 CONSTRAINT [PK_AccountsInfo_UserID] PRIMARY KEY CLUSTERED 
(
	[UserID] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON) ON [PRIMARY]
) ON [PRIMARY]
GO
/****** Object:  Table [dbo].[RecordGameBet]    Script Date: 2023/8/14 10:11:12 ******/
CREATE TABLE [dbo].[RecordGameBet](
	[RecordID] [bigint] IDENTITY(1,1) NOT NULL,
	[DrawID] [bigint] NOT NULL,
	[UserID] [int] NOT NULL,
	[KindID] [int] NOT NULL,
	[BetScore] [decimal](18, 2) NOT NULL,
	[WinScore] [decimal](18, 2) NOT NULL,
	[Revenue] [decimal](18, 2) NOT NULL,
	[InsertTime] [datetime] NOT NULL
) ON [PRIMARY]
GO
CREATE TABLE [dbo].[OnLineOrder](
	[OnLineID] [int] IDENTITY(1,1) NOT NULL,
	[OrderID] [nvarchar](32) NOT NULL,
	[UserID] [int] NOT NULL,
	[OrderAmount] [decimal](18, 2) NOT NULL,
	[PayAmount] [decimal](18, 2) NOT NULL,
	[OrderStatus] [tinyint] NOT NULL,
	[ShareName] [nvarchar](32) NULL,
	[ApplyDate] [datetime] NOT NULL
) ON [PRIMARY]
GO
SET IDENTITY_INSERT [dbo].[AccountsInfo] ON 

INSERT [dbo].[AccountsInfo] ([UserID], [GameID], [Accounts], [NickName], [SpreaderID], [PassPortID], [Compellation], [MobilePhone], [RegisterIP], [RegisterMachine], [RegisterDate], [LastLogonDate]) VALUES (1, 100001, N'dl_总代', N'总代理', 0, N'110101198001011234', N'赵敏', N'13900000001', N'10.0.0.1', N'A1B2C3D4E5F6', CAST(N'2023-01-02T08:00:00.000' AS DateTime), CAST(0x0000AF8C00C5C100 AS DateTime))
INSERT [dbo].[AccountsInfo] ([UserID], [GameID], [Accounts], [NickName], [SpreaderID], [PassPortID], [Compellation], [MobilePhone], [RegisterIP], [RegisterMachine], [RegisterDate], [LastLogonDate]) VALUES (2, 100002, N'wanjia\2', N'O''Brien', 1, N'', N'钱\多多', NULL, N'10.0.0.2', N'A1B2C3D4E5F6', CAST(N'2023-01-03T09:30:00.000' AS DateTime), NULL)
INSERT [dbo].[AccountsInfo] ([UserID], [GameID], [Accounts], [NickName], [SpreaderID], [PassPortID], [Compellation], [MobilePhone], [RegisterIP], [RegisterMachine], [RegisterDate], [LastLogonDate]) VALUES (3, 100003, N'wanjia3', N'三', 1, N'', N'', N'13900000003', N'10.0.0.3', N'FFEE00112233', CAST(0x0000AF8D00A4CB80 AS DateTime), NULL)
SET IDENTITY_INSERT [dbo].[AccountsInfo] OFF
GO
SET IDENTITY_INSERT [dbo].[RecordGameBet] ON 

INSERT [dbo].[RecordGameBet] ([RecordID], [DrawID], [UserID], [KindID], [BetScore], [WinScore], [Revenue], [InsertTime]) VALUES (1, 880001, 2, 104, CAST(1000.00 AS Decimal(18, 2)), CAST(1950.00 AS Decimal(18, 2)), CAST(50.00 AS Decimal(18, 2)), CAST(N'2023-02-01T20:00:00.000' AS DateTime))
INSERT [dbo].[RecordGameBet] ([RecordID], [DrawID], [UserID], [KindID], [BetScore], [WinScore], [Revenue], [InsertTime]) VALUES (2, 880002, 3, 104, CAST(500.00 AS Decimal(18, 2)), CAST(0.00 AS Decimal(18, 2)), CAST(0.00 AS Decimal(18, 2)), CAST(N'2023-02-01T20:05:00.000' AS DateTime))
SET IDENTITY_INSERT [dbo].[RecordGameBet] OFF
GO
INSERT [dbo].[OnLineOrder] ([OnLineID], [OrderID], [UserID], [OrderAmount], [PayAmount], [OrderStatus], [ShareName], [ApplyDate]) VALUES (1, N'WX20230201001', 2, CAST(2000.00 AS Decimal(18, 2)), CAST(2000.00 AS Decimal(18, 2)), 2, N'微信扫码', CAST(N'2023-02-01T19:00:00.000' AS DateTime))
INSERT [dbo].[OnLineOrder] ([OnLineID], [OrderID], [UserID], [OrderAmount], [PayAmount], [OrderStatus], [ShareName], [ApplyDate]) VALUES (2, N'WX20230201002', 3, CAST(800.00 AS Decimal(18, 2)), CAST(0.00 AS Decimal(18, 2)), 0, N'微信扫码', CAST(N'2023-02-01T19:10:00.000' AS DateTime))
GO
ALTER TABLE [dbo].[AccountsInfo] ADD  CONSTRAINT [DF_AccountsInfo_SpreaderID]  DEFAULT ((0)) FOR [SpreaderID]
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'用户标识' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'AccountsInfo', @level2type=N'COLUMN',@level2name=N'UserID'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'推广员标识' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'AccountsInfo', @level2type=N'COLUMN',@level2name=N'SpreaderID'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'用户帐号信息' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'AccountsInfo'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'局号' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'RecordGameBet', @level2type=N'COLUMN',@level2name=N'DrawID'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'下注分数' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'RecordGameBet', @level2type=N'COLUMN',@level2name=N'BetScore'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'派彩分数' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'RecordGameBet', @level2type=N'COLUMN',@level2name=N'WinScore'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'订单状态 0未付款 1已付款 2已处理' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'OnLineOrder', @level2type=N'COLUMN',@level2name=N'OrderStatus'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'实付金额' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'OnLineOrder', @level2type=N'COLUMN',@level2name=N'PayAmount'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'在线充值订单' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'OnLineOrder'
GO
